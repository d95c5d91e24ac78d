package io.vqrae.operators.encode;

import io.vqrae.schemas.TokenIdType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The byte layout of {@code TokenRecord.token_ids}: little-endian unsigned 16- or 32-bit integers. */
public final class TokenIds {
    private static final int UINT16_CODES = 1 << 16;

    private TokenIds() {}

    /** uint16 while every id of a {@code codebookSize}-code book fits in 16 bits, else uint32. */
    public static TokenIdType typeFor(int codebookSize) {
        return codebookSize <= UINT16_CODES ? TokenIdType.uint16 : TokenIdType.uint32;
    }

    /**
     * Writes {@code ids} in {@code type}'s layout.
     *
     * @throws IllegalArgumentException if an id is negative or does not fit in {@code type}: written anyway
     *     it would silently become a different code
     */
    public static byte[] encode(int[] ids, TokenIdType type) {
        ByteBuffer out = ByteBuffer.allocate(ids.length * width(type)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0 || (type == TokenIdType.uint16 && id >= UINT16_CODES)) {
                throw new IllegalArgumentException("Token id " + id + " at position " + i + " does not fit " + type);
            }
            if (type == TokenIdType.uint16) {
                out.putShort((short) id);
            } else {
                out.putInt(id);
            }
        }
        return out.array();
    }

    public static int[] decode(ByteBuffer bytes, TokenIdType type) {
        ByteBuffer in = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int[] ids = new int[in.remaining() / width(type)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = type == TokenIdType.uint16 ? Short.toUnsignedInt(in.getShort()) : in.getInt();
        }
        return ids;
    }

    /** Bytes per id. */
    public static int width(TokenIdType type) {
        return type == TokenIdType.uint16 ? Short.BYTES : Integer.BYTES;
    }
}
