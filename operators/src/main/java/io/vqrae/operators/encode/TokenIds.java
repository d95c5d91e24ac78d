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

    public static byte[] encode(int[] ids, TokenIdType type) {
        ByteBuffer out = ByteBuffer.allocate(ids.length * width(type)).order(ByteOrder.LITTLE_ENDIAN);
        for (int id : ids) {
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

    private static int width(TokenIdType type) {
        return type == TokenIdType.uint16 ? Short.BYTES : Integer.BYTES;
    }
}
