import 'dart:async';

import 'package:firebase_core/firebase_core.dart';
import 'package:firebase_messaging/firebase_messaging.dart';
import 'package:flet/flet.dart';
import 'package:flutter/foundation.dart';

/// The client side of the Python `FirebaseMessaging` service: the phone's FCM token, the
/// permission to notify, a token that changed (`token_refresh`) and the notification the
/// user tapped (`notification_opened`: while the app ran, or the one that started it).
class FirebaseMessagingService extends FletService {
  FirebaseMessagingService({required super.control});

  Future<FirebaseMessaging>? _ready;
  StreamSubscription<String>? _tokenRefresh;
  StreamSubscription<RemoteMessage>? _opened;

  @override
  void init() {
    super.init();
    debugPrint("FirebaseMessaging(${control.id}).init");
    control.addInvokeMethodListener(_invokeMethod);
    final ready = _start();
    // a failed start is logged here and reported to each method call that waits for it
    unawaited(ready.then((_) {},
        onError: (Object e) => debugPrint("FirebaseMessaging start failed: $e")));
    _ready = ready;
  }

  Future<FirebaseMessaging> _start() async {
    if (Firebase.apps.isEmpty) {
      await Firebase.initializeApp(options: _options());
    }
    final messaging = FirebaseMessaging.instance;
    _tokenRefresh = messaging.onTokenRefresh.listen((token) {
      control.triggerEvent("token_refresh", {"token": token});
    });
    _opened = FirebaseMessaging.onMessageOpenedApp.listen(_notificationOpened);
    final initial = await messaging.getInitialMessage();
    if (initial != null) {
      _notificationOpened(initial);
    }
    return messaging;
  }

  /// The options the Python side read from google-services.json or
  /// GoogleService-Info.plist; null: the Flutter project's own native config.
  FirebaseOptions? _options() {
    final apiKey = control.getString("api_key");
    final appId = control.getString("app_id");
    final senderId = control.getString("messaging_sender_id");
    final projectId = control.getString("project_id");
    if (apiKey == null || appId == null || senderId == null || projectId == null) {
      return null;
    }
    return FirebaseOptions(
      apiKey: apiKey,
      appId: appId,
      messagingSenderId: senderId,
      projectId: projectId,
      iosBundleId: control.getString("ios_bundle_id"),
    );
  }

  void _notificationOpened(RemoteMessage message) {
    final data = <String, String>{
      for (final entry in message.data.entries) entry.key: "${entry.value}"
    };
    control.triggerEvent("notification_opened", {
      "alert_id": int.tryParse(data["alert_id"] ?? ""),
      "data": data,
    });
  }

  Future<dynamic> _invokeMethod(String name, dynamic args) async {
    debugPrint("FirebaseMessaging.$name($args)");
    final messaging = await _ready!;
    switch (name) {
      case "request_permission":
        final settings = await messaging.requestPermission(
            alert: true, badge: true, sound: true);
        return settings.authorizationStatus.name;
      case "get_token":
        if (defaultTargetPlatform == TargetPlatform.iOS) {
          // FCM on iOS needs the APNs token first, which arrives shortly after
          // the permission: wait for it up to 10 s
          var tries = 0;
          while (await messaging.getAPNSToken() == null && tries < 20) {
            await Future.delayed(const Duration(milliseconds: 500));
            tries++;
          }
        }
        return await messaging.getToken();
      default:
        throw Exception("Unknown FirebaseMessaging method: $name");
    }
  }

  @override
  void dispose() {
    debugPrint("FirebaseMessaging(${control.id}).dispose()");
    control.removeInvokeMethodListener(_invokeMethod);
    _tokenRefresh?.cancel();
    _opened?.cancel();
    super.dispose();
  }
}
