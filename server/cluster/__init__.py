"""Several processes sharing the cameras: workers hold them by lease (`leases.CameraLeases`)."""
