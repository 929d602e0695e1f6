"""The example host platform (examples/forum): django-comments-xtd threaded comments."""

SITE_ID = 1
COMMENTS_APP = "django_comments_xtd"
# Posts (level 0) and replies up to two levels deep.
COMMENTS_XTD_MAX_THREAD_LEVEL = 2
# Signed-in players publish at once; anonymous visitors cannot post.
COMMENTS_XTD_CONFIRM_EMAIL = False
COMMENTS_XTD_SALT = b"missions-example-forum"
COMMENTS_XTD_APP_MODEL_OPTIONS = {
    "default": {
        "who_can_post": "users",
        "allow_flagging": False,
        "allow_feedback": True,  # likes
        "show_feedback": True,
    }
}
