package io.vqrae.models.testing;

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
 * Reads and writes NumPy {@code .npy} files (format 1.0, C order, little-endian) for exchanging arrays
 * with the Python reference. Only the dtypes the parity tests use: uint8, int64, float32.
 */
public record Npy(String dtype, long[] shape, ByteBuffer data) {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    public static Npy uint8(byte[] values, long... shape) {
        return new Npy("|u1", shape, ByteBuffer.wrap(values).order(ByteOrder.LITTLE_ENDIAN));
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

    private void expect(String wanted) {
        if (!dtype.equals(wanted)) {
            throw new IllegalStateException("Array has dtype " + dtype + ", expected " + wanted);
        }
    }

    public void write(Path file) throws IOException {
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
        Files.write(file, out.array());
    }

    public static Npy read(Path file) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        in.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException(file + " is not a .npy file");
        }
        int major = in.get();
        in.get();
        int headerLength = major == 1 ? Short.toUnsignedInt(in.getShort()) : in.getInt();
        byte[] headerBytes = new byte[headerLength];
        in.get(headerBytes);
        String header = new String(headerBytes, StandardCharsets.US_ASCII);
        String dtype = group(DESCR, header, file);
        if (group(ORDER, header, file).equals("True")) {
            throw new IOException(file + " is in Fortran order");
        }
        long[] shape = Arrays.stream(group(SHAPE, header, file).split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
        return new Npy(dtype, shape, in.slice().order(ByteOrder.LITTLE_ENDIAN));
    }

    private static String group(Pattern pattern, String header, Path file) throws IOException {
        Matcher m = pattern.matcher(header);
        if (!m.find()) {
            throw new IOException(file + ": no " + pattern + " in header " + header);
        }
        return m.group(1);
    }
}
