/// Single-threaded Float32 GEMM, C = A * B (row-major), register-tiled with SIMD.
///
/// Every output element sums its products in ascending k starting from 0, one multiply and one add at a time
/// (Swift does not contract them into FMA), so results are bit-identical to a naive i-k-j loop and do not
/// depend on the blocking: k-blocks continue from the partial sums stored in C.
enum MatmulKernel {
    static let tileRows = 4
    static let tileColumns = 16
    static let depthBlock = 256
    static let rowBlockSize = 64

    /// C = A (m x k) * B (k x n); `c` must hold m * n elements.
    static func multiply(
        _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, m: Int, k: Int, n: Int,
        into c: UnsafeMutableBufferPointer<Float>
    ) {
        guard let cBase = c.baseAddress else { return }
        cBase.initialize(repeating: 0, count: m * n)
        guard let aBase = a.baseAddress, let bBase = b.baseAddress, k > 0 else { return }
        let panels = (n + tileColumns - 1) / tileColumns
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: panels * depthBlock * tileColumns)
        let edgeA = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * depthBlock)
        let edgeC = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * tileColumns)
        defer { packed.deallocate(); edgeA.deallocate(); edgeC.deallocate() }
        // Padding rows of edge tiles only feed padding outputs, which are never copied back.
        edgeA.initialize(repeating: 0, count: tileRows * depthBlock)
        edgeC.initialize(repeating: 0, count: tileRows * tileColumns)
        for depthStart in stride(from: 0, to: k, by: depthBlock) {
            let depth = min(depthBlock, k - depthStart)
            pack(bBase + depthStart * n, depth: depth, n: n, into: packed)
            // A block of rows stays in L2 while every packed B panel (in L1) passes over it.
            for rowBlock in stride(from: 0, to: m, by: rowBlockSize) {
                for panel in 0..<panels {
                    let panelB = UnsafePointer(packed + panel * depth * tileColumns)
                    let column = panel * tileColumns
                    let columns = min(tileColumns, n - column)
                    for row in stride(from: rowBlock, to: min(m, rowBlock + rowBlockSize), by: tileRows) {
                        let rows = min(tileRows, m - row)
                        let tileA = aBase + row * k + depthStart
                        let tileC = cBase + row * n + column
                        if rows == tileRows, columns == tileColumns {
                            kernel(a: tileA, lda: k, b: panelB, depth: depth, c: tileC, ldc: n)
                        } else {
                            copy(rows: rows, columns: depth, from: tileA, stride: k, to: edgeA, stride: depthBlock)
                            copy(rows: rows, columns: columns, from: tileC, stride: n, to: edgeC, stride: tileColumns)
                            kernel(a: edgeA, lda: depthBlock, b: panelB, depth: depth, c: edgeC, ldc: tileColumns)
                            copy(rows: rows, columns: columns, from: edgeC, stride: tileColumns, to: tileC, stride: n)
                        }
                    }
                }
            }
        }
    }

    /// Copies `depth` rows of B into column panels of `tileColumns`, zero-padded on the right.
    private static func pack(_ b: UnsafePointer<Float>, depth: Int, n: Int, into packed: UnsafeMutablePointer<Float>) {
        let panels = (n + tileColumns - 1) / tileColumns
        for panel in 0..<panels {
            let column = panel * tileColumns
            let columns = min(tileColumns, n - column)
            let target = packed + panel * depth * tileColumns
            for p in 0..<depth {
                let row = target + p * tileColumns
                row.update(from: b + p * n + column, count: columns)
                if columns < tileColumns { (row + columns).update(repeating: 0, count: tileColumns - columns) }
            }
        }
    }

    /// Copies a rows x columns block between strided buffers.
    private static func copy(
        rows: Int, columns: Int, from source: UnsafePointer<Float>, stride sourceStride: Int,
        to target: UnsafeMutablePointer<Float>, stride targetStride: Int
    ) {
        for row in 0..<rows {
            (target + row * targetStride).update(from: source + row * sourceStride, count: columns)
        }
    }

    /// Accumulates a 4 x 16 tile of C over `depth` steps of A's rows and a packed B panel.
    @inline(__always)
    private static func kernel(
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, depth: Int, c: UnsafeMutablePointer<Float>,
        ldc: Int
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
            let a0 = SIMD8<Float>(repeating: a[p])
            let a1 = SIMD8<Float>(repeating: a[lda + p])
            let a2 = SIMD8<Float>(repeating: a[2 * lda + p])
            let a3 = SIMD8<Float>(repeating: a[3 * lda + p])
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
