package io.vqrae.models.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every EXIF orientation against Pillow 9.4's {@code ImageOps.exif_transpose} of a 3x2 RGB image whose
 * samples are 0..17 in storage order (outputs generated once with Pillow and pasted here).
 */
class OrientationTest {

    @ParameterizedTest(name = "orientation {0}")
    @CsvSource(delimiter = '|', value = {
        "1|0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
        "2|6 7 8 3 4 5 0 1 2 15 16 17 12 13 14 9 10 11",
        "3|15 16 17 12 13 14 9 10 11 6 7 8 3 4 5 0 1 2",
        "4|9 10 11 12 13 14 15 16 17 0 1 2 3 4 5 6 7 8",
        "5|0 1 2 9 10 11 3 4 5 12 13 14 6 7 8 15 16 17",
        "6|9 10 11 0 1 2 12 13 14 3 4 5 15 16 17 6 7 8",
        "7|15 16 17 6 7 8 12 13 14 3 4 5 9 10 11 0 1 2",
        "8|6 7 8 15 16 17 3 4 5 12 13 14 0 1 2 9 10 11"})
    void matchesPillowsExifTranspose(int orientation, String pillow) {
        byte[] stored = new byte[18];
        for (int i = 0; i < stored.length; i++) {
            stored[i] = (byte) i;
        }
        String[] values = pillow.split(" ");
        byte[] expected = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            expected[i] = Byte.parseByte(values[i]);
        }
        assertArrayEquals(expected, Containers.applyOrientation(stored, 3, 2, orientation));
    }
}
