package io.vqrae.models.preprocess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vqrae.models.image.DecodedImage;
import io.vqrae.models.image.ImageDecodeException;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.npy.Npy;
import io.vqrae.models.testing.PythonReference;
import io.vqrae.models.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Java decode + preprocess against the Pillow reference ({@code python -m vqrae.preprocess}) on
 * real images: every sample must be identical. JPEG and WebP are decoded by the libraries Pillow uses
 * (libjpeg-turbo, libwebp) and the resampler is Pillow's arithmetic, so lossy files are exact too.
 */
class PilParityTest {

    /** Lossless sources: the decoded pixels are identical, so the whole pipeline must be. */
    private static final List<String> LOSSLESS = List.of(
            "cvo9xd_keong_macan_srgb8.png",        // 500px photo
            "u76c0g_bliznaca_srgb8.png",           // 500px photo
            "cvo9xd_keong_macan_grayscale.png",    // 8-bit gray photo
            "tmshre_riaphotographs_alpha.png",     // RGBA photo
            "vgqcws_vin_srgb8.png",                // 64px photo: upscaled by every spec
            "ccwn3p08.png",                        // PngSuite 8-bit palette
            "g10n3p04.png",                        // PngSuite 4-bit palette
            "ct1n0g04.png",                        // PngSuite 4-bit gray
            "exif2c08.png",                        // PngSuite with an eXIf chunk
            "DJI-FC6310-16bit_709_v4_krita.png",   // 16-bit RGB
            "Nikon-D300-12bit_2020_g1_dt.png",     // 16-bit RGB
            "flower_alpha.png",                    // 2268x1512 RGBA
            "derived_gray_alpha.png",              // gray + alpha ramp
            "derived_gray16.png",                  // 16-bit gray
            "derived_interlaced.png",              // Adam7
            "traffic_light.gif",                   // animated GIF, first frame
            "animation_patches.gif",               // animated GIF, first frame
            "derived.bmp",
            "derived_lossless.webp",
            "derived_animated.webp",               // lossless animation, first frame
            "derived_exif_orientation6.webp");

    private static final List<String> LOSSY = List.of(
            "flower.png.im_q85_420.jpg",
            "flower.png.im_q85_422.jpg",
            "flower.png.im_q85_440.jpg",
            "flower.png.im_q85_444.jpg",
            "flower.png.im_q85_420_progr.jpg",
            "flower.png.im_q85_gray.jpg",
            "flower_small.q85_420_non_interleaved.jpg",
            "flower_small.q85_444_partially_interleaved.jpg",
            "derived_exif_orientation6.jpg",
            "derived_lossy.webp",
            "derived_alpha.webp");

    private static final ImageDecoder DECODER = ImageDecoder.withDefaults();
    private static final Map<String, DecodedImage> DECODED = new ConcurrentHashMap<>();

    @TempDir
    Path tmp;

    static Stream<PreprocessSpec> specs() {
        return Stream.of(
                new PreprocessSpec(256, 256, ResizeFilter.BILINEAR, CropMode.NONE),
                new PreprocessSpec(256, 256, ResizeFilter.BICUBIC, CropMode.NONE),
                new PreprocessSpec(256, 256, ResizeFilter.BILINEAR, CropMode.CENTER),
                new PreprocessSpec(256, 256, ResizeFilter.BICUBIC, CropMode.CENTER),
                new PreprocessSpec(224, 320, ResizeFilter.BICUBIC, CropMode.CENTER),
                new PreprocessSpec(720, 960, ResizeFilter.BICUBIC, CropMode.NONE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void matchesPillow(PreprocessSpec spec) throws Exception {
        List<String> files = new ArrayList<>(LOSSLESS);
        files.addAll(LOSSY);
        byte[][] expected = runPillow(spec, files);
        Preprocessor preprocessor = new Preprocessor(spec);

        List<String> failures = new ArrayList<>();
        StringBuilder table = new StringBuilder(String.format("%nPIL parity %dx%d %s crop=%s%n%-48s %5s %8s%n",
                spec.height(), spec.width(), spec.filter(), spec.crop(), "file", "max", "mean"));
        for (int i = 0; i < files.size(); i++) {
            String file = files.get(i);
            byte[] actual = preprocessor.toChw(decode(file));
            assertEquals(expected[i].length, actual.length, file);
            int max = 0;
            long sum = 0;
            for (int j = 0; j < actual.length; j++) {
                int d = Math.abs((actual[j] & 0xff) - (expected[i][j] & 0xff));
                max = Math.max(max, d);
                sum += d;
            }
            double mean = (double) sum / actual.length;
            table.append(String.format("%-48s %5d %8.4f%s%n", file, max, mean, i < LOSSLESS.size() ? "" : "  (lossy)"));
            if (max > 0) {
                failures.add(file + " max=" + max + " mean=" + mean);
            }
        }
        System.out.print(table);
        assertTrue(failures.isEmpty(), "differs from Pillow: " + failures);
    }

    /**
     * JPEGs decoded as drafts (libjpeg's DCT scaling) for the model's input, then resampled: the same pixels as
     * Pillow's {@code draft} + resize, at every reduction (the flower photos are 2268 x 1512: 1/8 for 256 x 256,
     * 1/4 for 224 x 320, 1/2 for 720 x 960) and after an EXIF rotation.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void draftDecodesMatchPillowsDraft(PreprocessSpec spec) throws Exception {
        List<String> files = LOSSY.stream().filter(f -> f.endsWith(".jpg")).toList();
        byte[][] expected = runPillow(spec, files, true);
        ImageDecoder drafts = ImageDecoder.builder().draft(spec.width(), spec.height()).build();
        Preprocessor preprocessor = new Preprocessor(spec);
        for (int i = 0; i < files.size(); i++) {
            byte[] jpeg = TestPaths.testImageBytes(files.get(i));
            DecodedImage draft = drafts.decode(jpeg);
            assertArrayEquals(expected[i], preprocessor.toChw(draft), files.get(i) + " as a draft");
            assertEquals((long) draft.width() * draft.height(), drafts.decodedPixels(jpeg), files.get(i) + " pixels budgeted");
            assertTrue(draft.width() >= Math.min(spec.width(), DECODER.decode(jpeg).width()), files.get(i) + " draft width");
        }
    }

    private static DecodedImage decode(String file) {
        return DECODED.computeIfAbsent(file, f -> {
            try {
                return DECODER.decode(TestPaths.testImageBytes(f));
            } catch (ImageDecodeException e) {
                throw new AssertionError(f + " failed to decode", e);
            }
        });
    }

    private byte[][] runPillow(PreprocessSpec spec, List<String> files) throws IOException, InterruptedException {
        return runPillow(spec, files, false);
    }

    /** Runs the reference CLI once for all files (Python + numpy start slowly) and splits its [B, 3, H, W] output. */
    private byte[][] runPillow(PreprocessSpec spec, List<String> files, boolean draft) throws IOException, InterruptedException {
        Path out = tmp.resolve("pil.npy");
        List<String> args = new ArrayList<>(List.of("--size", String.valueOf(spec.height()), String.valueOf(spec.width()),
                "--filter", spec.filter().toString(), "--crop", spec.crop().toString(), "--out", out.toString()));
        if (draft) {
            args.add("--draft");
        }
        for (String f : files) {
            args.add(TestPaths.testImage(f).toString());
        }
        PythonReference.run("preprocess", args.toArray(String[]::new));
        Npy npy = Npy.read(out);
        assertArrayEquals(new long[] {files.size(), 3, spec.height(), spec.width()}, npy.shape(), "npy shape");
        byte[] all = npy.uint8();
        int each = 3 * spec.height() * spec.width();
        byte[][] split = new byte[files.size()][each];
        for (int i = 0; i < files.size(); i++) {
            System.arraycopy(all, i * each, split[i], 0, each);
        }
        return split;
    }
}
