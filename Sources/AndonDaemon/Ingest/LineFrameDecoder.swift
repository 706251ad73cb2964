import AndonProtocol
import NIOCore

/// One frame of the UNIX stream protocol: a line, or the fact that a line was too long (and was discarded).
enum LineFrame: Sendable {
    case line(ByteBuffer)
    case tooLong(Int)
}

/// Splits a byte stream into newline-terminated lines of at most `WireMessage.maximumLength` bytes (plus an
/// optional `\r`). A longer line is discarded up to its newline, without buffering it, and reported as `tooLong`.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = LineFrame

    private let limit = WireMessage.maximumLength + 1
    private var discarded: Int?

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        if let newline = view.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - view.startIndex
            if let skipped = discarded {
                buffer.moveReaderIndex(forwardBy: length + 1)
                discarded = nil
                context.fireChannelRead(wrapInboundOut(.tooLong(skipped + length)))
            } else if length > limit {
                buffer.moveReaderIndex(forwardBy: length + 1)
                context.fireChannelRead(wrapInboundOut(.tooLong(length)))
            } else {
                let line = buffer.readSlice(length: length)!  // `length` readable bytes precede the newline
                buffer.moveReaderIndex(forwardBy: 1)
                context.fireChannelRead(wrapInboundOut(.line(line)))
            }
            return .continue
        }
        if view.count > limit {
            discarded = (discarded ?? 0) + view.count
            buffer.moveReaderIndex(forwardBy: view.count)
        }
        return .needMoreData
    }

    mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A last line without its newline still counts.
        if let skipped = discarded {
            discarded = nil
            context.fireChannelRead(wrapInboundOut(.tooLong(skipped + buffer.readableBytes)))
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        } else if buffer.readableBytes > 0 {
            // Reading exactly the readable bytes cannot fail.
            let line = buffer.readSlice(length: buffer.readableBytes)!
            context.fireChannelRead(wrapInboundOut(.line(line)))
        }
        return .needMoreData
    }
}
