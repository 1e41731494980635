/// Single-threaded Float32 GEMM, C = op(A) * op(B) (row-major, op = identity or transpose), register-tiled with
/// SIMD on packed operands.
///
/// Every output element sums its products in ascending k starting from 0, one multiply and one add at a time
/// (Swift does not contract them into FMA), so results are bit-identical to a naive i-k-j loop and do not
/// depend on the blocking: k-blocks continue from the partial sums stored in C.
enum MatmulKernel {
    static let tileRows = 4
    static let tileColumns = 16
    static let depthBlock = 256
    static let rowBlock = 64

    /// A row-major matrix in memory, used as itself or transposed.
    struct Operand {
        let base: UnsafePointer<Float>
        /// Elements per stored row.
        let stride: Int
        let transposed: Bool

        /// Element (row, column) of op(matrix).
        @inline(__always)
        func element(_ row: Int, _ column: Int) -> Float {
            transposed ? base[column * stride + row] : base[row * stride + column]
        }
    }

    /// C (m x n) = op(A) (m x k) * op(B) (k x n); `c` must hold m * n elements.
    static func multiply(a: Operand, b: Operand, m: Int, k: Int, n: Int, into c: UnsafeMutablePointer<Float>) {
        c.initialize(repeating: 0, count: m * n)
        let panels = (n + tileColumns - 1) / tileColumns
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: panels * depthBlock * tileColumns)
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: rowBlock * depthBlock)
        let edge = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * tileColumns)
        defer { packedB.deallocate(); packedA.deallocate(); edge.deallocate() }
        edge.initialize(repeating: 0, count: tileRows * tileColumns)
        for depthStart in stride(from: 0, to: k, by: depthBlock) {
            let depth = min(depthBlock, k - depthStart)
            packColumns(b, depthStart: depthStart, depth: depth, n: n, into: packedB)
            // A block of rows stays in L2 while every packed B panel (in L1) passes over it.
            for blockStart in stride(from: 0, to: m, by: rowBlock) {
                let rows = min(rowBlock, m - blockStart)
                packRows(a, rowStart: blockStart, rows: rows, depthStart: depthStart, depth: depth, into: packedA)
                for panel in 0..<panels {
                    let tile = Tile(
                        packedB: UnsafePointer(packedB + panel * depth * tileColumns), depth: depth,
                        column: panel * tileColumns, columns: min(tileColumns, n - panel * tileColumns), ldc: n)
                    for tileStart in stride(from: 0, to: rows, by: tileRows) {
                        tile.run(
                            packedA: packedA + tileStart * depth, rows: min(tileRows, rows - tileStart),
                            c: c + (blockStart + tileStart) * n, edge: edge)
                    }
                }
            }
        }
    }

    /// Copies op(B) rows depthStart..<depthStart+depth into panels of 16 columns: panel, then k, then column.
    private static func packColumns(
        _ b: Operand, depthStart: Int, depth: Int, n: Int, into packed: UnsafeMutablePointer<Float>
    ) {
        for panel in 0..<((n + tileColumns - 1) / tileColumns) {
            let fullPanel = !b.transposed && (panel + 1) * tileColumns <= n
            for p in 0..<depth {
                let target = packed + (panel * depth + p) * tileColumns
                if fullPanel {
                    target.update(from: b.base + (depthStart + p) * b.stride + panel * tileColumns, count: tileColumns)
                    continue
                }
                for j in 0..<tileColumns {
                    let column = panel * tileColumns + j
                    target[j] = column < n ? b.element(depthStart + p, column) : 0
                }
            }
        }
    }

    /// Copies a block of op(A) rows into tiles of 4 rows: tile, then k, then row; missing rows are zero.
    private static func packRows(
        _ a: Operand, rowStart: Int, rows: Int, depthStart: Int, depth: Int, into packed: UnsafeMutablePointer<Float>
    ) {
        for tileStart in stride(from: 0, to: rows, by: tileRows) {
            let target = packed + tileStart * depth
            for p in 0..<depth {
                for r in 0..<tileRows {
                    let row = tileStart + r
                    target[p * tileRows + r] = row < rows ? a.element(rowStart + row, depthStart + p) : 0
                }
            }
        }
    }

    /// One packed B panel against 4-row tiles of packed A, accumulating into C.
    private struct Tile {
        let packedB: UnsafePointer<Float>
        let depth: Int
        let column: Int
        let columns: Int
        let ldc: Int

        /// Adds packed A rows times the panel into C's rows; edge tiles go through a 4 x 16 scratch tile.
        func run(
            packedA: UnsafePointer<Float>, rows: Int, c: UnsafeMutablePointer<Float>, edge: UnsafeMutablePointer<Float>
        ) {
            let target = c + column
            guard rows < tileRows || columns < tileColumns else {
                kernel(a: packedA, b: packedB, depth: depth, c: target, ldc: ldc)
                return
            }
            for row in 0..<rows { (edge + row * tileColumns).update(from: target + row * ldc, count: columns) }
            kernel(a: packedA, b: packedB, depth: depth, c: edge, ldc: tileColumns)
            for row in 0..<rows { (target + row * ldc).update(from: edge + row * tileColumns, count: columns) }
        }
    }

    /// Accumulates a 4 x 16 tile of C over `depth` steps of packed A (4 per step) and packed B (16 per step).
    @inline(__always)
    private static func kernel(
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, depth: Int, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let raw = UnsafeMutableRawPointer(c)
        let stride = ldc * MemoryLayout<Float>.stride
        let half = 8 * MemoryLayout<Float>.stride
        var c00 = raw.loadUnaligned(as: SIMD8<Float>.self)
        var c01 = raw.loadUnaligned(fromByteOffset: half, as: SIMD8<Float>.self)
        var c10 = raw.loadUnaligned(fromByteOffset: stride, as: SIMD8<Float>.self)
        var c11 = raw.loadUnaligned(fromByteOffset: stride + half, as: SIMD8<Float>.self)
        var c20 = raw.loadUnaligned(fromByteOffset: 2 * stride, as: SIMD8<Float>.self)
        var c21 = raw.loadUnaligned(fromByteOffset: 2 * stride + half, as: SIMD8<Float>.self)
        var c30 = raw.loadUnaligned(fromByteOffset: 3 * stride, as: SIMD8<Float>.self)
        var c31 = raw.loadUnaligned(fromByteOffset: 3 * stride + half, as: SIMD8<Float>.self)
        let rawB = UnsafeRawPointer(b)
        for p in 0..<depth {
            let b0 = rawB.loadUnaligned(fromByteOffset: p * 2 * half, as: SIMD8<Float>.self)
            let b1 = rawB.loadUnaligned(fromByteOffset: p * 2 * half + half, as: SIMD8<Float>.self)
            let a0 = SIMD8<Float>(repeating: a[4 * p])
            let a1 = SIMD8<Float>(repeating: a[4 * p + 1])
            let a2 = SIMD8<Float>(repeating: a[4 * p + 2])
            let a3 = SIMD8<Float>(repeating: a[4 * p + 3])
            c00 = c00 + a0 * b0
            c01 = c01 + a0 * b1
            c10 = c10 + a1 * b0
            c11 = c11 + a1 * b1
            c20 = c20 + a2 * b0
            c21 = c21 + a2 * b1
            c30 = c30 + a3 * b0
            c31 = c31 + a3 * b1
        }
        raw.storeBytes(of: c00, as: SIMD8<Float>.self)
        raw.storeBytes(of: c01, toByteOffset: half, as: SIMD8<Float>.self)
        raw.storeBytes(of: c10, toByteOffset: stride, as: SIMD8<Float>.self)
        raw.storeBytes(of: c11, toByteOffset: stride + half, as: SIMD8<Float>.self)
        raw.storeBytes(of: c20, toByteOffset: 2 * stride, as: SIMD8<Float>.self)
        raw.storeBytes(of: c21, toByteOffset: 2 * stride + half, as: SIMD8<Float>.self)
        raw.storeBytes(of: c30, toByteOffset: 3 * stride, as: SIMD8<Float>.self)
        raw.storeBytes(of: c31, toByteOffset: 3 * stride + half, as: SIMD8<Float>.self)
    }
}
