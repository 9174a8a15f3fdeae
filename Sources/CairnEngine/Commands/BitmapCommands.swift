// Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

extension Engine {
    func registerBitmapCommands() {
    }
}
