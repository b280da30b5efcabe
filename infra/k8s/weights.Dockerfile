# ShopGuard model files, for the Kubernetes manifests' init containers (infra/k8s/): the
# server image holds no weights (.dockerignore), so each pod copies them from this image.
#
# Place the models first (infra/scripts/prepare_weights.sh), then build with weights/ as the
# context, tagged like the server image:
#   docker build -f infra/k8s/weights.Dockerfile -t shopguard-weights:0.1.0 weights/
#
# The pose model is Ultralytics YOLO11n-pose (AGPL-3.0): check how that fits before you push
# this image anywhere public.
FROM busybox:1.37.0

# The INT8 pose model (the CPU default) with its sha256 and export record, and the behaviour
# ensemble (XGBoost + the temporal network). The server checks each against its .sha256.
COPY yolo11n-pose-int8.onnx yolo11n-pose-int8.onnx.sha256 yolo11n-pose-int8.onnx.export.json \
     behaviour-xgb.json behaviour-xgb.json.sha256 \
     behaviour-tcn.onnx behaviour-tcn.onnx.sha256 behaviour-tcn.json behaviour-tcn.json.sha256 \
     /weights/

USER 10001:10001
