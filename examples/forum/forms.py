from django import forms

from .models import Topic


class TopicForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}
