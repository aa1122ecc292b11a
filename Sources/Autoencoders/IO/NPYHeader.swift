// The .npy header: the preamble (magic, version, header length) and the data size checked against
// the file's length, the dtype named by 'descr', and a strict parser for the dict literal NumPy writes.

extension NPY {
    /// The element type named by `descr`.
    struct DType {
        enum Kind { case float, signed, unsigned, bool }
        var kind: Kind
        var size: Int
        var bigEndian: Bool
        var text: String
    }

    /// The parsed preamble and header of an .npy file, checked against the file's length.
    struct Header {
        var dtype: DType
        var shape: [Int]
        var count: Int
        var dataOffset: Int

        /// NumPy itself allows at most 64 dimensions.
        static let maxDimensions = 64
        static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

        init(parsing bytes: UnsafeRawBufferPointer, name: String) throws(AutoencoderError) {
            guard bytes.count >= 8, bytes.prefix(6).elementsEqual(Header.magic) else {
                throw .format("\(name): not an .npy file (it does not start with \\x93NUMPY)")
            }
            let major = bytes[6], minor = bytes[7]
            guard (1...3).contains(major), minor == 0 else {
                throw .format("\(name): unsupported .npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)")
            }
            let preamble = major == 1 ? 10 : 12
            guard bytes.count >= preamble else {
                throw .format("\(name): truncated: the file ends inside the .npy preamble (\(bytes.count) bytes)")
            }
            var headerLength = 0
            for index in (8..<preamble).reversed() {
                headerLength = headerLength << 8 | Int(bytes[index])
            }
            guard headerLength <= bytes.count - preamble else {
                throw .format("\(name): truncated or corrupted: the header length \(headerLength) extends beyond the end of the file (\(bytes.count) bytes)")
            }
            var parser = HeaderParser(text: UnsafeRawBufferPointer(rebasing: bytes[preamble..<(preamble + headerLength)]), name: name)
            let (descr, fortranOrder, shape) = try parser.parseDict()
            if fortranOrder {
                throw .format("\(name): Fortran-order (column-major) arrays are not supported; save a C-order array (np.ascontiguousarray)")
            }
            dtype = try NPY.parseDescr(descr, name: name)
            self.shape = shape
            dataOffset = preamble + headerLength

            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                if overflow {
                    throw .format("\(name): corrupted: shape \(NPY.describe(shape)) has too many elements")
                }
                count = product
            }
            let (dataLength, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            if overflow {
                throw .format("\(name): corrupted: shape \(NPY.describe(shape)) of '\(descr)' is too large")
            }
            let available = bytes.count - dataOffset
            if available < dataLength {
                throw .format("\(name): truncated: shape \(NPY.describe(shape)) of '\(descr)' needs \(dataLength) data bytes, but the file holds \(available)")
            }
            if available > dataLength {
                throw .format("\(name): corrupted: \(available - dataLength) unexpected bytes after the \(dataLength) data bytes of shape \(NPY.describe(shape)) of '\(descr)'")
            }
            self.count = count
        }
    }

    /// Parses a descr such as `<f4`, `|u1`, `>i8`, `=u2` or `b1`.
    static func parseDescr(_ descr: String, name: String) throws(AutoencoderError) -> DType {
        let supported = "supported: <f4, <f8, |u1, |i1, <i2, <u2, <i4, <u4, <i8, <u8, |b1, and their '>' and '=' forms"
        var characters = Array(descr.utf8)
        var order = UInt8(ascii: "=")
        if let first = characters.first, "<>=|".utf8.contains(first) {
            order = first
            characters.removeFirst()
        }
        guard characters.count >= 2, characters.count <= 3,
              characters.dropFirst().allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let size = Int(String(decoding: characters.dropFirst(), as: UTF8.self)) else {
            if characters.first == UInt8(ascii: "O") {
                throw .format("\(name): object arrays (dtype '\(descr)', pickled Python objects) are not supported")
            }
            throw .format("\(name): unsupported dtype '\(descr)' (\(supported))")
        }
        let kind: DType.Kind
        switch (characters[0], size) {
        case (UInt8(ascii: "f"), 4), (UInt8(ascii: "f"), 8): kind = .float
        case (UInt8(ascii: "i"), 1), (UInt8(ascii: "i"), 2), (UInt8(ascii: "i"), 4), (UInt8(ascii: "i"), 8): kind = .signed
        case (UInt8(ascii: "u"), 1), (UInt8(ascii: "u"), 2), (UInt8(ascii: "u"), 4), (UInt8(ascii: "u"), 8): kind = .unsigned
        case (UInt8(ascii: "b"), 1): kind = .bool
        default:
            throw .format("\(name): unsupported dtype '\(descr)' (\(supported))")
        }
        if order == UInt8(ascii: "|") && size > 1 {
            throw .format("\(name): dtype '\(descr)' is invalid: byte order '|' applies only to 1-byte types")
        }
        let hostIsBigEndian = 1.bigEndian == 1
        let bigEndian = order == UInt8(ascii: ">") || (order != UInt8(ascii: "<") && hostIsBigEndian)
        return DType(kind: kind, size: size, bigEndian: size > 1 && bigEndian, text: descr)
    }

    /// A strict parser for exactly the dict literal NumPy writes: the keys 'descr',
    /// 'fortran_order' and 'shape' once each, in any order, with an optional trailing comma;
    /// strings in single or double quotes without escapes; True or False; a tuple of
    /// non-negative integers (with an optional trailing comma, `()` for a scalar).
    struct HeaderParser {
        let text: UnsafeRawBufferPointer
        let name: String
        var position = 0

        init(text: UnsafeRawBufferPointer, name: String) {
            self.text = text
            self.name = name
        }

        mutating func parseDict() throws(AutoencoderError) -> (descr: String, fortranOrder: Bool, shape: [Int]) {
            var descr: String?
            var fortranOrder: Bool?
            var shape: [Int]?
            try expect("{")
            while peek() != UInt8(ascii: "}") {
                let key = try parseString()
                try expect(":")
                switch key {
                case "descr":
                    if descr != nil { throw fail("duplicate key 'descr'") }
                    if peek() == UInt8(ascii: "[") {
                        throw fail("structured dtypes (a list as 'descr') are not supported")
                    }
                    descr = try parseString()
                case "fortran_order":
                    if fortranOrder != nil { throw fail("duplicate key 'fortran_order'") }
                    fortranOrder = try parseBool()
                case "shape":
                    if shape != nil { throw fail("duplicate key 'shape'") }
                    shape = try parseShape()
                default:
                    throw fail("unexpected key '\(key)' (expected 'descr', 'fortran_order' and 'shape')")
                }
                if peek() == UInt8(ascii: ",") {
                    position += 1
                } else if peek() != UInt8(ascii: "}") {
                    throw fail("expected ',' or '}'")
                }
            }
            position += 1
            skipSpace()
            if position != text.count {
                throw fail("unexpected text after the closing '}'")
            }
            guard let descr, let fortranOrder, let shape else {
                let missing = [("descr", descr == nil), ("fortran_order", fortranOrder == nil), ("shape", shape == nil)]
                    .filter(\.1).map { "'\($0.0)'" }.joined(separator: ", ")
                throw fail("missing key \(missing)")
            }
            return (descr, fortranOrder, shape)
        }

        private func fail(_ message: String) -> AutoencoderError {
            .format("\(name): corrupted .npy header: \(message) at offset \(position) of \"\(String(decoding: text.prefix(200), as: UTF8.self))\"")
        }

        private mutating func skipSpace() {
            while position < text.count, [0x20, 0x09, 0x0a, 0x0d].contains(text[position]) {
                position += 1
            }
        }

        /// The next non-space byte, or nil at the end of the header.
        private mutating func peek() -> UInt8? {
            skipSpace()
            return position < text.count ? text[position] : nil
        }

        private mutating func expect(_ character: Unicode.Scalar) throws(AutoencoderError) {
            guard peek() == UInt8(ascii: character) else { throw fail("expected '\(character)'") }
            position += 1
        }

        private mutating func parseString() throws(AutoencoderError) -> String {
            guard let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
                throw fail("expected a quoted string")
            }
            let start = position + 1
            var end = start
            while end < text.count, text[end] != quote {
                if text[end] == UInt8(ascii: "\\") || text[end] == 0x0a { throw fail("unsupported character in a string") }
                end += 1
            }
            guard end < text.count else { throw fail("unterminated string") }
            position = end + 1
            return String(decoding: text[start..<end], as: UTF8.self)
        }

        private mutating func parseBool() throws(AutoencoderError) -> Bool {
            _ = peek()
            for (word, value) in [("True", true), ("False", false)] where matches(word) {
                position += word.utf8.count
                return value
            }
            throw fail("expected True or False")
        }

        private func matches(_ word: String) -> Bool {
            let end = position + word.utf8.count
            guard end <= text.count else { return false }
            let next = end < text.count ? text[end] : 0x20
            let isIdentifier = (next >= UInt8(ascii: "a") && next <= UInt8(ascii: "z")) || (next >= UInt8(ascii: "A") && next <= UInt8(ascii: "Z"))
                || (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9")) || next == UInt8(ascii: "_")
            return text[position..<end].elementsEqual(word.utf8) && !isIdentifier
        }

        private mutating func parseShape() throws(AutoencoderError) -> [Int] {
            try expect("(")
            var shape: [Int] = []
            var sawComma = false
            while peek() != UInt8(ascii: ")") {
                if shape.count == Header.maxDimensions {
                    throw fail("more than \(Header.maxDimensions) dimensions")
                }
                shape.append(try parseInteger())
                sawComma = false
                if peek() == UInt8(ascii: ",") {
                    position += 1
                    sawComma = true
                } else if peek() != UInt8(ascii: ")") {
                    throw fail("expected ',' or ')' in the shape")
                }
            }
            position += 1
            // In Python "(5)" is the integer 5, not a tuple: NumPy rejects it, and so do we.
            if shape.count == 1 && !sawComma {
                throw fail("the shape (\(shape[0])) is not a tuple (a 1-d shape is written (\(shape[0]),))")
            }
            return shape
        }

        private mutating func parseInteger() throws(AutoencoderError) -> Int {
            _ = peek()
            var value = 0
            var digits = 0
            while position < text.count, text[position] >= UInt8(ascii: "0"), text[position] <= UInt8(ascii: "9") {
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int(text[position] - UInt8(ascii: "0")))
                if overflow1 || overflow2 { throw fail("a dimension is too large") }
                value = sum
                digits += 1
                position += 1
            }
            if digits == 0 { throw fail("expected a non-negative integer in the shape") }
            // Python 2 wrote long integers with an L suffix.
            if position < text.count, text[position] == UInt8(ascii: "L") { position += 1 }
            return value
        }
    }
}
