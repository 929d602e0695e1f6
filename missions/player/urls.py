from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.hub, name="hub"),
    path("history/", views.history, name="history"),
    path("profile/", views.profile, name="profile"),
    path("hub/missions/<int:mission_id>/card", views.hub_card, name="hub-card"),
    path("login/", auth_views.LoginView.as_view(template_name="missions/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
