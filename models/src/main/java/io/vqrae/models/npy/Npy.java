package io.vqrae.models.npy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy {@code .npy} arrays (format 1.0, C order, little-endian): what the Python
 * reference exchanges with the parity tests, and the {@code .tokens.npy} files of WebDataset-style token
 * corpora (LlamaGen's layout). Written by hand because the format is a 10-line header plus raw data, and
 * no well-kept Java library for it is on Maven Central. Dtypes: uint8, uint16, uint32, int64, float32.
 */
public record Npy(String dtype, long[] shape, ByteBuffer data) {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    public static Npy uint8(byte[] values, long... shape) {
        return new Npy("|u1", shape, ByteBuffer.wrap(values).order(ByteOrder.LITTLE_ENDIAN));
    }

    /** Token ids as uint16 (each must be below 65536), the layout of {@code .tokens.npy} files. */
    public static Npy uint16(int[] values, long... shape) {
        ByteBuffer data = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            if (v < 0 || v > 0xffff) {
                throw new IllegalArgumentException("Value " + v + " does not fit uint16");
            }
            data.putShort((short) v);
        }
        return new Npy("<u2", shape, data.flip());
    }

    public static Npy int64(int[] values, long... shape) {
        ByteBuffer data = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            data.putLong(v);
        }
        return new Npy("<i8", shape, data.flip());
    }

    public byte[] uint8() {
        expect("|u1");
        byte[] out = new byte[data.remaining()];
        data.duplicate().get(out);
        return out;
    }

    public float[] float32() {
        expect("<f4");
        float[] out = new float[data.remaining() / 4];
        data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    public int[] int64AsInt() {
        expect("<i8");
        var longs = data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
        int[] out = new int[longs.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.toIntExact(longs.get(i));
        }
        return out;
    }

    /** Integer ids of an unsigned 16- or 32-bit or signed 64-bit array (token ids), row-major. */
    public int[] ids() {
        ByteBuffer in = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        return switch (dtype) {
            case "<u2" -> {
                int[] out = new int[in.remaining() / 2];
                for (int i = 0; i < out.length; i++) {
                    out[i] = Short.toUnsignedInt(in.getShort());
                }
                yield out;
            }
            case "<u4" -> {
                int[] out = new int[in.remaining() / 4];
                for (int i = 0; i < out.length; i++) {
                    out[i] = Math.toIntExact(Integer.toUnsignedLong(in.getInt()));
                }
                yield out;
            }
            case "<i8" -> int64AsInt();
            default -> throw new IllegalStateException("Array has dtype " + dtype + ", not uint16, uint32 or int64 ids");
        };
    }

    private void expect(String wanted) {
        if (!dtype.equals(wanted)) {
            throw new IllegalStateException("Array has dtype " + dtype + ", expected " + wanted);
        }
    }

    public void write(Path file) throws IOException {
        Files.write(file, toBytes());
    }

    /** The whole {@code .npy} file: header, then the data. */
    public byte[] toBytes() {
        StringBuilder dims = new StringBuilder();
        for (long d : shape) {
            dims.append(d).append(", ");
        }
        if (shape.length > 1) {
            dims.setLength(dims.length() - 1);
        }
        String header = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': (" + dims.toString().trim() + "), }";
        int unpadded = MAGIC.length + 2 + 2 + header.length() + 1;
        header = header + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 4 + header.length() + data.remaining())
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length())
                .put(header.getBytes(StandardCharsets.US_ASCII)).put(data.duplicate());
        return out.array();
    }

    public static Npy read(Path file) throws IOException {
        return read(Files.readAllBytes(file), file.toString());
    }

    /** Parses the bytes of a {@code .npy} file; {@code name} goes into error messages. */
    public static Npy read(byte[] bytes, String name) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        if (bytes.length < MAGIC.length + 4) {
            throw new IOException(name + " is not a .npy file");
        }
        in.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException(name + " is not a .npy file");
        }
        int major = in.get();
        in.get();
        int headerLength = major == 1 ? Short.toUnsignedInt(in.getShort()) : in.getInt();
        byte[] headerBytes = new byte[headerLength];
        in.get(headerBytes);
        String header = new String(headerBytes, StandardCharsets.US_ASCII);
        String dtype = group(DESCR, header, name);
        if (group(ORDER, header, name).equals("True")) {
            throw new IOException(name + " is in Fortran order");
        }
        long[] shape = Arrays.stream(group(SHAPE, header, name).split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
        return new Npy(dtype, shape, in.slice().order(ByteOrder.LITTLE_ENDIAN));
    }

    private static String group(Pattern pattern, String header, String name) throws IOException {
        Matcher m = pattern.matcher(header);
        if (!m.find()) {
            throw new IOException(name + ": no " + pattern + " in header " + header);
        }
        return m.group(1);
    }
}
