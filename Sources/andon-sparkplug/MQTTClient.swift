import CMosquitto
import Foundation
import Synchronization

/// libmosquitto's client on its own thread (`mosquitto_loop_start`): it connects, reconnects with backoff (1 s up to
/// 30 s), and calls back on that thread. Publishing is thread-safe.
final class MQTTClient: @unchecked Sendable {
    private let handle: OpaquePointer
    private let onConnect: @Sendable (Int32) -> Void
    private let onMessage: @Sendable (String, [UInt8]) -> Void

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ what: String, _ code: Int32) {
            description = "\(what): \(String(cString: mosquitto_strerror(code)))"
        }
    }

    init(
        clientID: String,
        onConnect: @escaping @Sendable (Int32) -> Void,
        onMessage: @escaping @Sendable (String, [UInt8]) -> Void
    ) throws {
        mosquitto_lib_init()
        guard let handle = mosquitto_new(clientID, true, nil) else {
            throw Failure("mosquitto_new", MOSQ_ERR_NOMEM.rawValue)
        }
        self.handle = handle
        self.onConnect = onConnect
        self.onMessage = onMessage
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        mosquitto_reconnect_delay_set(handle, 1, 30, true)
        mosquitto_connect_callback_set(handle) { _, context, code in
            guard let context else { return }
            Unmanaged<MQTTClient>.fromOpaque(context).takeUnretainedValue().onConnect(code)
        }
        mosquitto_message_callback_set(handle) { _, context, message in
            guard let context, let message, let topic = message.pointee.topic else { return }
            let count = Int(message.pointee.payloadlen)
            let bytes: [UInt8] =
                count > 0 && message.pointee.payload != nil
                ? Array(UnsafeRawBufferPointer(start: message.pointee.payload, count: count)) : []
            Unmanaged<MQTTClient>.fromOpaque(context).takeUnretainedValue().onMessage(String(cString: topic), bytes)
        }
    }

    deinit {
        mosquitto_destroy(handle)
        mosquitto_lib_cleanup()
    }

    /// Connects (in the background: a broker that is not up yet is retried) and starts the client's thread.
    func start(host: String, port: Int) throws {
        let connected = mosquitto_connect_async(handle, host, Int32(port), 30)
        // A broker that refuses now is retried by the loop; only a bad argument is fatal.
        if connected == MOSQ_ERR_INVAL.rawValue { throw Failure("connect to \(host):\(port)", connected) }
        let started = mosquitto_loop_start(handle)
        guard started == MOSQ_ERR_SUCCESS.rawValue else { throw Failure("the MQTT thread", started) }
    }

    func stop() {
        mosquitto_disconnect(handle)
        mosquitto_loop_stop(handle, false)
    }

    func subscribe(_ topic: String) -> Int32 { mosquitto_subscribe(handle, nil, topic, 0) }

    /// QoS 0, not retained: Sparkplug's commands.
    @discardableResult
    func publish(_ topic: String, _ payload: [UInt8]) -> Int32 {
        payload.withUnsafeBytes { mosquitto_publish(handle, nil, topic, Int32($0.count), $0.baseAddress, 0, false) }
    }
}
