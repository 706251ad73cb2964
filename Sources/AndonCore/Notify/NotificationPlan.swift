/// A delivery an event asks for, before the outbox numbers and stores it.
public struct DeliveryIntent: Sendable, Hashable {
    public var recipient: Recipient
    public var channel: ChannelRef
    public var purpose: NotifyPurpose

    public init(recipient: Recipient, channel: ChannelRef, purpose: NotifyPurpose) {
        self.recipient = recipient
        self.channel = channel
        self.purpose = purpose
    }
}

/// Whom an event notifies, and through which channels: a pure function of the event and the plant.
///
/// - An event that calls someone (`Event.Kind.notifies`: raised, escalated, overdue, handed over, repeated and
///   widened at KPO, reminders, every tier of a `page_everyone` call) reaches each responder it names through each of
///   their channels (`call`).
/// - When the call is taken (acknowledged, or arrived at before anyone acknowledged it), everyone notified so far
///   but the one who took it hears so (`taken`), and when it ends (resolved, cleared, resumed, heard) everyone notified
///   but the one who ended it (`ended`): their phones clear.
/// - A line's channels get every event of that line (`update`).
public enum NotificationPlan {
    public static func intents(for event: Event, plant: Plant) -> [DeliveryIntent] {
        // A shelved call calls nobody; its end still tells whoever had been called before it was shelved.
        if event.shelf != nil, !event.closes { return [] }
        var intents: [DeliveryIntent] = []
        func reach(_ responders: [ResponderID], _ purpose: NotifyPurpose) {
            let actor = event.by?.responder
            for id in responders where id != actor || purpose == .call {
                for channel in plant.responders[id]?.notify ?? [] {
                    intents.append(DeliveryIntent(recipient: .responder(id), channel: channel, purpose: purpose))
                }
            }
        }
        switch event.kind {
        case _ where event.kind.notifies:
            reach(unique(event.responders), .call)
        case .acknowledged:
            reach(unique(event.notified), .taken)
        case .arrived where event.acknowledgedAfter == nil:
            reach(unique(event.notified), .taken)
        case _ where event.closes:
            reach(unique(event.notified), .ended)
        default:
            break
        }
        for channel in plant.lines[event.line]?.notify ?? [] {
            intents.append(DeliveryIntent(recipient: .line(event.line), channel: channel, purpose: .update))
        }
        return intents
    }

    private static func unique(_ responders: [ResponderID]) -> [ResponderID] {
        var seen = Set<ResponderID>()
        return responders.filter { seen.insert($0).inserted }
    }
}
