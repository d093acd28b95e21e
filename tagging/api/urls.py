from config.api.routers import OptionalSlashRouter

from .views import TagViewSet

app_name = "tagging-api"

router = OptionalSlashRouter()
router.register("tags", TagViewSet, basename="tag")

urlpatterns = router.urls
