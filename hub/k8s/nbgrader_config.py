"""Global nbgrader configuration of the Kubernetes student image (hub/k8s/Dockerfile).

Every pod, the instructor's included, uses ngshare's exchange (installed in the image) instead
of nbgrader's file-system exchange; the URL is the ngshare service of hub/k8s/values.yaml.
"""

from ngshare_exchange import configureExchange

c = get_config()  # noqa: F821 (provided by nbgrader)

configureExchange(c, "http://ngshare.mildip.svc.cluster.local:8080/services/ngshare")
c.CourseDirectory.course_id = "military-diplomacy"
