library flet_push;

export "src/extension.dart" show Extension;
