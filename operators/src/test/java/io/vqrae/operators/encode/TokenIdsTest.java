package io.vqrae.operators.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.schemas.TokenIdType;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class TokenIdsTest {

    @Test
    void roundTripsTheFullRangeOfEachWidth() {
        int[] uint16 = {0, 1, 65535};
        assertThat(TokenIds.decode(ByteBuffer.wrap(TokenIds.encode(uint16, TokenIdType.uint16)), TokenIdType.uint16))
                .containsExactly(uint16);
        int[] uint32 = {0, 65536, Integer.MAX_VALUE};
        assertThat(TokenIds.decode(ByteBuffer.wrap(TokenIds.encode(uint32, TokenIdType.uint32)), TokenIdType.uint32))
                .containsExactly(uint32);
    }

    @Test
    void refusesIdsThatWouldBeWrittenAsADifferentCode() {
        assertThatThrownBy(() -> TokenIds.encode(new int[] {3, 65536}, TokenIdType.uint16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("65536 at position 1");
        assertThatThrownBy(() -> TokenIds.encode(new int[] {-1}, TokenIdType.uint16))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TokenIds.encode(new int[] {-1}, TokenIdType.uint32))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
