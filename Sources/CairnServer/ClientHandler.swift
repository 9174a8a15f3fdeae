// One connected client: bytes in → parser → engine → reply bytes, flushed once per tick.

import CairnEngine
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The server lives as long as the process; unowned(unsafe) spares a checked retain on
    /// every access in the request loop.
    unowned(unsafe) let server: Server
    let session: ClientSession
    let parser: RESPRequestParser
    private var context: ChannelHandlerContext?
    var pendingFlush = false
    private var closing = false
    /// Requests held while CLIENT PAUSE applies to them, in arrival order.
    var deferred: [[Bytes]] = []

    init(server: Server) {
        self.server = server
        self.session = server.engine.connect()
        var limits = RESPLimits()
        limits.maxBulkBytes = server.engine.config.protoMaxBulkLen
        self.parser = RESPRequestParser(limits: limits)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        let channel = context.channel
        if let remote = channel.remoteAddress {
            session.isUnixSocket = remote.protocol == .unix
            session.address = session.isUnixSocket ? "/unixsocket" : formatAddress(remote)
        }
        if let local = channel.localAddress {
            session.localAddress = local.protocol == .unix ? server.config["unixsocket"] : formatAddress(local)
        }
        guard server.clientConnected(self) else {
            write(raw: "-ERR max number of clients reached\r\n", thenClose: true)
            server.engine.disconnect(session)
            return
        }
        if protectedModeRefuses(remote: channel.remoteAddress) {
            write(raw: "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n", thenClose: true)
            return
        }
        session.onKill = { [weak self] in self?.closeNow() }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        server.clientDisconnected(self)
        self.context = nil
        context.fireChannelInactive()
    }

    /// The requests of one read, parsed before any runs (its arrays reused between reads).
    private var batch = RequestBatch()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard !closing else { return }
        server.stats.netInputBytes += buffer.readableBytes
        server.stats.readsProcessed += 1
        // Parse the whole read first, so the batch's key lookups can be prefetched together;
        // then run the commands in order, and only then report a protocol error found after
        // them (as executing while parsing would have).
        var parseError: RESPProtocolError?
        batch.removeAll()
        buffer.withUnsafeReadableBytes { raw in
            do {
                try parser.parse(raw, into: &batch)
            } catch let error as RESPProtocolError {
                parseError = error
            } catch {
                parseError = RESPProtocolError("Protocol error: \(error)")
            }
        }
        let requests = batch.count
        if requests > 1 { server.engine.prefetchKeys(session, batch.requests) }
        for i in 0..<requests {
            if closing { break }
            let argv = batch.slots[i]
            if !deferred.isEmpty || session.isBlocked || server.mustDefer(argv) {
                deferred.append(argv)
                continue
            }
            execute(argv)
        }
        batch.removeAll()
        if let parseError, !closing { protocolError(parseError) }
        session.queryBufferBytes = parser.bufferedBytes
        if parser.bufferedBytes > server.stats.clientRecentMaxInputBuffer {
            server.stats.clientRecentMaxInputBuffer = parser.bufferedBytes
        }
        // (Most reads end on a request boundary: nothing held, no limit to look up.)
        if parser.bufferedBytes > 0 && parser.bufferedBytes > Int(server.config.int("client-query-buffer-limit")) {
            server.logger.warning("Closing client that reached max query buffer length: id=\(session.id) addr=\(session.address) qbuf=\(parser.bufferedBytes)")
            closeNow()
            return
        }
        server.markPending(self)
    }

    private func execute(_ argv: [Bytes]) {
        server.engine.execute(session, argv)
        if session.closeAfterReply { closing = true }
    }

    /// Runs requests that were held by CLIENT PAUSE, stopping again if a pause still applies.
    func resumeDeferred() {
        while !deferred.isEmpty && !closing {
            if session.isBlocked || server.mustDefer(deferred[0]) { break }
            execute(deferred.removeFirst())
        }
        server.markPending(self)
    }

    private func protocolError(_ error: RESPProtocolError) {
        server.logger.info("Protocol error (\(error.message)) from client: id=\(session.id) addr=\(session.address)")
        server.engine.stats.totalErrorReplies += 1
        session.reply.error("ERR " + error.message)
        session.closeAfterReply = true
        closing = true
    }

    /// The buffer the reply bytes are copied into for NIO, kept between ticks: a flush refills
    /// it instead of allocating a ByteBuffer (its storage object and bytes) every tick. NIO
    /// drops its reference once the socket write completes, so the refill reuses the storage;
    /// while a write is still queued (a slow reader) `clear(minimumCapacity:)` gives the refill
    /// fresh storage and the queued bytes are never touched.
    private var outBuffer: ByteBuffer?
    /// Largest output buffer kept for the next tick (Redis's per-client reply buffer is 16 KiB);
    /// after a bigger reply the buffer is released with the write.
    private static let outBufferKeptBytesMax = 16 * 1024

    /// Largest ByteBuffer one flush writes. A ByteBuffer holds under 4 GiB (its indices are
    /// 32-bit), and one tick's reply can be bigger (pipelined GETs of a 512 MB value), so a
    /// bigger reply goes out as several buffers, in order. A var for tests.
    nonisolated(unsafe) static var writePieceBytesMax = 1 << 30

    /// How a reply of `total` bytes is cut into ByteBuffers of at most `pieceMax` bytes: the
    /// byte ranges in order, the last one possibly shorter.
    static func writePieces(total: Int, pieceMax: Int) -> [Range<Int>] {
        precondition(pieceMax > 0)
        var pieces: [Range<Int>] = []
        var start = 0
        while total - start > pieceMax {
            pieces.append(start..<(start + pieceMax))
            start += pieceMax
        }
        pieces.append(start..<total)
        return pieces
    }

    /// Writes the client's pending reply bytes (once per tick).
    func flush() {
        guard let context else { return }
        let pending = session.reply.buffer.count
        if pending > 0 {
            var last = 0..<pending
            if pending > Self.writePieceBytesMax {
                let pieces = Self.writePieces(total: pending, pieceMax: Self.writePieceBytesMax)
                for range in pieces.dropLast() {
                    var piece = context.channel.allocator.buffer(capacity: range.count)
                    session.reply.buffer.withUnsafeBytes { piece.writeBytes(UnsafeRawBufferPointer(rebasing: $0[range])) }
                    context.write(wrapOutboundOut(piece), promise: nil)
                }
                last = pieces[pieces.count - 1]
            }
            var out: ByteBuffer
            if var kept = outBuffer {
                outBuffer = nil   // so `kept` is the only reference and clear() reuses it
                kept.clear(minimumCapacity: last.count)
                out = kept
            } else {
                out = context.channel.allocator.buffer(capacity: max(last.count, 1024))
            }
            session.reply.buffer.withUnsafeBytes { out.writeBytes(UnsafeRawBufferPointer(rebasing: $0[last])) }
            if session.reply.buffer.capacity > 64 * 1024 {
                session.reply.buffer = []
                session.reply.buffer.reserveCapacity(256)
            } else {
                session.reply.buffer.removeAll(keepingCapacity: true)
            }
            server.stats.netOutputBytes += pending
            server.stats.writesProcessed += 1
            if pending > server.stats.clientRecentMaxOutputBuffer { server.stats.clientRecentMaxOutputBuffer = pending }
            if session.closeAfterReply {
                context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in context.close(promise: nil) }
                self.context = nil
                return
            }
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            if out.capacity <= Self.outBufferKeptBytesMax { outBuffer = out }
        } else if session.closeAfterReply {
            context.close(promise: nil)
            self.context = nil
        }
    }

    private func write(raw: String, thenClose: Bool) {
        guard let context else { return }
        var out = context.channel.allocator.buffer(capacity: raw.utf8.count)
        out.writeString(raw)
        context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in
            if thenClose { context.close(promise: nil) }
        }
        if thenClose { closing = true; self.context = nil }
    }

    func closeNow() {
        closing = true
        context?.close(promise: nil)
        context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func protectedModeRefuses(remote: SocketAddress?) -> Bool {
        guard server.config.bool("protected-mode"), let remote else { return false }
        switch remote {
        case .unixDomainSocket: return false
        case .v4(let a): return !(a.host.hasPrefix("127."))
        case .v6(let a): return a.host != "::1" && !a.host.hasPrefix("::ffff:127.")
        }
    }
}

func formatAddress(_ a: SocketAddress) -> String {
    switch a {
    case .v4: return "\(a.ipAddress ?? "?"):\(a.port ?? 0)"
    case .v6: return "[\(a.ipAddress ?? "?")]:\(a.port ?? 0)"
    case .unixDomainSocket: return "/unixsocket"
    }
}
