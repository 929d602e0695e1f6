from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", views.hub, name="hub"),
    path("history/", views.history, name="history"),
    path("profile/", views.profile, name="profile"),
    path("hub/missions/<int:mission_id>/card", views.hub_card, name="hub-card"),
    path("hub/header", views.hub_header, name="hub-header"),
    path("leaderboards/<slug:template_key>/", views.leaderboard_page, name="leaderboard"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("login/", auth_views.LoginView.as_view(template_name="missions/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
