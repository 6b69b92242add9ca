from django.urls import path

from accounts import views

urlpatterns = [
    path("token/", views.ObtainTokenView.as_view(), name="auth-token"),
    path("me/", views.CurrentUserView.as_view(), name="auth-me"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
]
