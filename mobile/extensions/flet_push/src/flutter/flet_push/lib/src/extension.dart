import 'package:flet/flet.dart';

import 'messaging.dart';

class Extension extends FletExtension {
  @override
  FletService? createService(Control control) {
    switch (control.type) {
      case "FirebaseMessaging":
        return FirebaseMessagingService(control: control);
      default:
        return null;
    }
  }
}
