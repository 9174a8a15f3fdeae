// RDBValueSink: the reader's second way out, for loaders that build their own values.
//
// `RDBReader.next()` hands out one event per element (a `Bytes` per string, an enum case per
// element, a set of seen elements per key to refuse duplicates). A start-up load of millions
// of small collections spends most of its time on exactly that, so after `.keyBegin` a loader
// may instead call `readValue(into:)`, and the reader calls the sink once per element with
// bytes borrowed from its buffer (valid only during the call):
//
//   .keyBegin ──▶ readValue(into: sink) ──▶ sink.begin, sink.string / listElement /
//                                           setMember / hashField+hashValue /
//                                           zsetMember+zsetScore …   (file order)
//             ◀── the key's .keyEnd is consumed; next() goes on with the next record
//
// Everything the event path checks is still checked, in the same order, with the same errors
// and offsets: the sink only answers "was this member / field already there?" (a set or a
// packed list it is building knows that anyway), so the reader keeps no set of its own. A field
// and its value are two calls because the reader looks for a duplicate field before it reads
// the value. When the reader throws part-way, whatever the sink built is to be thrown away.
// Streams are not read this way (`readValue(into:)` returns false and reads nothing).
//
// A class to subclass rather than a protocol: the reader holds the sink unretained and calls
// it as a guaranteed reference (a protocol existential was retained and released around every
// element). The methods here do nothing and accept every element.
open class RDBValueSink {
    public init() {}

    /// A new value starts. `countHint` is the element count the encoding declares up front
    /// (plain encodings, listpacks, intsets), or nil. It comes from the file: use it to size
    /// small things, never to allocate without a cap.
    open func begin(kind: RDBValueKind, countHint: Int?) {}
    /// Called right after `begin` when the set is an RDB listpack (type 20): Redis 7.2 keeps
    /// such a set a listpack whatever its members, so a loader that mirrors it needs to know.
    open func setIsListpack() {}
    /// A whole string value (borrowed, like the elements).
    open func string(_ value: UnsafeRawBufferPointer) {}
    open func listElement(_ element: UnsafeRawBufferPointer) {}
    /// Returns false when the set already has this member.
    open func setMember(_ member: UnsafeRawBufferPointer) -> Bool { true }
    /// Returns false when the hash already has this field; otherwise `hashValue` follows.
    open func hashField(_ field: UnsafeRawBufferPointer) -> Bool { true }
    open func hashValue(_ value: UnsafeRawBufferPointer, expireAtMs: Int64?) {}
    /// Returns false when the sorted set already has this member; otherwise `zsetScore`
    /// follows (never NaN).
    open func zsetMember(_ member: UnsafeRawBufferPointer) -> Bool { true }
    open func zsetScore(_ score: Double) {}
}
