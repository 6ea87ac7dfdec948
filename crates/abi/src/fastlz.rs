//! FastLZ level-1 compression as solady's `LibZip.flzCompress` / `flzDecompress` define it
//! (spec §3.2): SmartSession decompresses ENABLE payloads on-chain with it.
//!
//! [`compress`] reproduces the JavaScript port that module-sdk calls, byte for byte, including
//! its hash, which multiplies in IEEE-754 doubles. [`decompress`] accepts any valid FastLZ-1
//! stream and returns a typed error, never a panic, for a malformed one.

/// Why a byte stream is not valid FastLZ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FastLzError {
    /// A literal run or a back-reference header ends past the input.
    #[error("truncated FastLZ stream at byte {offset}")]
    Truncated {
        /// Offset of the instruction in the input.
        offset: usize,
    },
    /// A back-reference points before the start of the output.
    #[error(
        "FastLZ back-reference at byte {offset} reaches {distance} bytes back with only {produced} produced"
    )]
    BadReference {
        /// Offset of the instruction in the input.
        offset: usize,
        /// How far back it reaches (distance + 1).
        distance: usize,
        /// Bytes decompressed so far.
        produced: usize,
    },
    /// The stream decompresses past [`MAX_ENABLE_PAYLOAD`] bytes, more than an op can carry.
    #[error("FastLZ stream at byte {offset} decompresses past {limit} bytes")]
    TooLong {
        /// Offset of the instruction in the input.
        offset: usize,
        /// The bound.
        limit: usize,
    },
}

use crate::bounds::MAX_ENABLE_PAYLOAD;

const HASH_SIZE: usize = 8192;
const MAX_DISTANCE: usize = 8191;

/// The 24-bit little-endian word at `i`, reading zeros past the end (as the JS port does).
#[inline(always)]
fn u24(input: &[u8], i: usize) -> u32 {
    let at = |k: usize| u32::from(input.get(k).copied().unwrap_or(0));
    at(i) | (at(i + 1) << 8) | (at(i + 2) << 16)
}

/// The JS port's hash: `((2654435769 * x) >> 19) & 8191`, where the product is a double
/// (rounded once it passes 2^53) and `>>` first wraps it to 32 bits.
#[inline(always)]
fn hash(x: u32) -> usize {
    let product = 2_654_435_769f64 * f64::from(x);
    // The product is a non-negative integer below 2^56, so the conversion to u64 is exact;
    // keeping the low 32 bits is the wrap `>>` applies.
    let wrapped = product as u64 as u32;
    ((wrapped >> 19) & 8191) as usize
}

fn literals(out: &mut Vec<u8>, run: &[u8]) {
    for chunk in run.chunks(32) {
        out.push((chunk.len() - 1) as u8);
        out.extend_from_slice(chunk);
    }
}

/// Compresses `input` exactly as solady's JavaScript `LibZip.flzCompress` does.
pub fn compress(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 2 + 16);
    // `b` and the loop bounds are signed in the original: short inputs make them negative.
    let b = input.len() as i64 - 4;
    let limit = b - 9;
    let mut table = [0u32; HASH_SIZE];
    let mut anchor = 0usize;
    let mut i = 2usize;
    while (i as i64) < limit {
        let mut reference;
        let mut distance;
        loop {
            let seq = u24(input, i);
            let h = hash(seq);
            reference = table[h] as usize;
            table[h] = i as u32;
            distance = i - reference;
            let candidate = if distance < HASH_SIZE { u24(input, reference) } else { 0x0100_0000 };
            if (i as i64) >= limit {
                break;
            }
            i += 1;
            if seq == candidate {
                break;
            }
        }
        if (i as i64) >= limit {
            break;
        }
        i -= 1;
        if i > anchor {
            literals(&mut out, &input[anchor..i]);
        }
        // Match length, counted as the original does: one past the first differing byte.
        let p = reference + 3;
        let q = i + 3;
        let end = b - q as i64;
        let mut len = 0usize;
        if end > 0 {
            let end = end as usize;
            while len < end {
                let same = input[p + len] == input[q + len];
                len += 1;
                if !same {
                    break;
                }
            }
        }
        i += len;
        let d = distance - 1;
        let (d_high, d_low) = ((d >> 8) as u8, (d & 255) as u8);
        while len > 262 {
            out.extend_from_slice(&[224 + d_high, 253, d_low]);
            len -= 262;
        }
        if len < 7 {
            out.extend_from_slice(&[((len as u8) << 5) + d_high, d_low]);
        } else {
            out.extend_from_slice(&[224 + d_high, (len - 7) as u8, d_low]);
        }
        table[hash(u24(input, i))] = i as u32;
        i += 1;
        table[hash(u24(input, i))] = i as u32;
        i += 1;
        anchor = i;
    }
    if anchor < input.len() {
        literals(&mut out, &input[anchor..]);
    }
    out
}

/// Decompresses a FastLZ level-1 stream, as SmartSession does on-chain, to at most
/// [`MAX_ENABLE_PAYLOAD`] bytes.
pub fn decompress(input: &[u8]) -> Result<Vec<u8>, FastLzError> {
    let mut out: Vec<u8> = Vec::with_capacity(input.len() * 2);
    let mut i = 0usize;
    while i < input.len() {
        let c = input[i];
        let kind = c >> 5;
        if kind == 0 {
            let n = usize::from(c) + 1;
            let run = input.get(i + 1..i + 1 + n).ok_or(FastLzError::Truncated { offset: i })?;
            check_len(out.len() + n, i)?;
            out.extend_from_slice(run);
            i += 1 + n;
            continue;
        }
        let high = usize::from(c & 31) << 8;
        let (len, distance, step) = if kind == 7 {
            let (&extra, &low) = input
                .get(i + 1)
                .zip(input.get(i + 2))
                .ok_or(FastLzError::Truncated { offset: i })?;
            (9 + usize::from(extra), high + usize::from(low), 3)
        } else {
            let &low = input.get(i + 1).ok_or(FastLzError::Truncated { offset: i })?;
            (2 + usize::from(kind), high + usize::from(low), 2)
        };
        debug_assert!(distance <= MAX_DISTANCE);
        let start = out.len().checked_sub(distance + 1).ok_or(FastLzError::BadReference {
            offset: i,
            distance: distance + 1,
            produced: out.len(),
        })?;
        check_len(out.len() + len, i)?;
        // Byte by byte: a reference may overlap what it produces.
        for k in 0..len {
            let byte = out[start + k];
            out.push(byte);
        }
        i += step;
    }
    Ok(out)
}

fn check_len(len: usize, offset: usize) -> Result<(), FastLzError> {
    if len > MAX_ENABLE_PAYLOAD {
        return Err(FastLzError::TooLong { offset, limit: MAX_ENABLE_PAYLOAD });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_tiny_inputs_are_literals() {
        assert!(compress(&[]).is_empty());
        assert_eq!(compress(&[7]), vec![0, 7]);
        assert_eq!(decompress(&compress(&[1, 2, 3])).unwrap(), vec![1, 2, 3]);
        assert_eq!(decompress(&[]).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn zeros_compress_and_round_trip() {
        let data = vec![0u8; 1000];
        let packed = compress(&data);
        assert!(packed.len() < 50, "{} bytes", packed.len());
        assert_eq!(decompress(&packed).unwrap(), data);
    }

    #[test]
    fn malformed_streams_are_errors() {
        assert_eq!(decompress(&[5, 1, 2]), Err(FastLzError::Truncated { offset: 0 }));
        assert_eq!(decompress(&[0xe0]), Err(FastLzError::Truncated { offset: 0 }));
        assert_eq!(
            decompress(&[0x20, 0x00]),
            Err(FastLzError::BadReference { offset: 0, distance: 1, produced: 0 })
        );
    }

    #[test]
    fn output_is_bounded() {
        // Long back-references: 3 bytes for 264 zeros, so 48 KB would stand for 4.2 MB.
        let mut stream = vec![0, 0];
        stream.extend(std::iter::repeat_n([0xe0, 0xff, 0x00], 16_000).flatten());
        assert!(matches!(
            decompress(&stream),
            Err(FastLzError::TooLong { limit: MAX_ENABLE_PAYLOAD, .. })
        ));
        let fits = &stream[..2 + 3 * 15_000];
        assert_eq!(decompress(fits).unwrap().len(), 1 + 15_000 * 264);
    }

    #[test]
    fn hash_is_exact_below_two_to_the_53() {
        // 3000 * 2654435769 < 2^53: the double product is exact, so the hash is the integer one.
        let x = 3000u32;
        let exact = ((u64::from(x) * 2_654_435_769u64) as u32 >> 19) & 8191;
        assert_eq!(hash(x), exact as usize);
    }
}
