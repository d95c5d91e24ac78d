package io.vqrae.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.npy.Npy;
import io.vqrae.models.onnx.DetokenizerSession;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.models.preprocess.Preprocessor;
import io.vqrae.models.quality.ImageQuality;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.schemas.TokenIdType;
import io.vqrae.schemas.TokenRecord;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code vqrae reconstruct} and {@code vqrae detokenize} against the model run directly. */
class ReconstructDetokenizeTest {
    private static final ModelManifest MODEL = TestPaths.tinyManifest();
    private static final String PHOTO = "flower.png.im_q85_420.jpg";

    @TempDir
    Path temp;

    @Test
    void reconstructWritesInputBesideReconstructionAndPrintsTheirPsnrAndSsim() throws Exception {
        Files.copy(TestPaths.testImage(PHOTO), temp.resolve(PHOTO));
        Files.writeString(temp.resolve("page.html"), "<html>not an image</html>");
        Path out = temp.resolve("out");
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        int exit = new CommandLine(new ReconstructCommand(new PrintStream(stdout, true, StandardCharsets.UTF_8), System.err))
                .execute("--model", TestPaths.tinyModel().toString(), "--out", out.toString(), temp.resolve(PHOTO).toString(),
                        temp.resolve("page.html").toString());
        assertThat(exit).isZero();

        byte[] input = new Preprocessor(MODEL.preprocessing()).toChw(MODEL.imageDecoder().build().decode(TestPaths.testImageBytes(PHOTO)));
        byte[] reconstruction;
        try (TokenizerSession encoder = TokenizerSession.open(SessionConfig.cpu(MODEL));
                DetokenizerSession decoder = DetokenizerSession.open(SessionConfig.cpu(MODEL))) {
            reconstruction = decoder.decode(List.of(encoder.encode(List.of(input)).tokenIds(0))).get(0);
        }
        int h = MODEL.imageHeight();
        int w = MODEL.imageWidth();
        String lines = stdout.toString(StandardCharsets.UTF_8);
        assertThat(lines).contains(String.format(Locale.ROOT, "PSNR %.2f dB, SSIM %.4f",
                ImageQuality.psnr(input, reconstruction), ImageQuality.ssim(input, reconstruction, h, w)));
        assertThat(lines).contains("page.html: rejected (unsupported_format");
        BufferedImage png = ImageIO.read(out.resolve(PHOTO + ".png").toFile());
        assertThat(png.getWidth()).isEqualTo(2 * w + 3 * 4);
        assertThat(png.getHeight()).isEqualTo(h + 2 * 4);
        assertThat(png.getRGB(4 + w + 4, 4) & 0xffffff).as("first reconstructed pixel").isEqualTo(rgb(reconstruction, 0, h * w));
    }

    @Test
    void detokenizeDecodesNpyGridsAndAvroRecordsAndRefusesAnotherCodebook() throws Exception {
        int[] ids = new int[MODEL.numTokens()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 37) % MODEL.codebookSize();
        }
        Npy.uint16(ids, MODEL.gridHeight(), MODEL.gridWidth()).write(temp.resolve("img-1.tokens.npy"));
        Path avro = temp.resolve("tokens.avro");
        try (DataFileWriter<TokenRecord> writer = new DataFileWriter<>(new SpecificDatumWriter<>(TokenRecord.class))) {
            writer.create(TokenRecord.getClassSchema(), avro.toFile());
            writer.append(record("img-2", ids, MODEL.codebookSha256()));
            writer.append(record("img-3", ids, "0".repeat(64)));
        }
        Path out = temp.resolve("out");
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        int exit = new CommandLine(new DetokenizeCommand(new PrintStream(stdout, true, StandardCharsets.UTF_8), System.err))
                .execute("--model", TestPaths.tinyModel().toString(), "--out", out.toString(),
                        temp.resolve("img-1.tokens.npy").toString(), avro.toString());

        assertThat(exit).as("one record refused").isEqualTo(1);
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("img-3: refused (codebook 000000000000 is not the model's");
        byte[] expected;
        try (DetokenizerSession decoder = DetokenizerSession.open(SessionConfig.cpu(MODEL))) {
            expected = decoder.decode(List.of(ids)).get(0);
        }
        int plane = MODEL.imageHeight() * MODEL.imageWidth();
        for (String id : List.of("img-1", "img-2")) {
            BufferedImage png = ImageIO.read(out.resolve(id + ".png").toFile());
            for (int p : new int[] {0, 1000, plane - 1}) {
                int x = p % MODEL.imageWidth();
                int y = p / MODEL.imageWidth();
                assertThat(png.getRGB(4 + x, 4 + y) & 0xffffff).as(id + " pixel " + p).isEqualTo(rgb(expected, p, plane));
            }
        }
        assertThat(out.resolve("img-3.png")).doesNotExist();
    }

    private static TokenRecord record(String id, int[] ids, String codebook) {
        return TokenRecord.newBuilder()
                .setId(id).setImageSha256("0".repeat(64)).setModelId(MODEL.modelId()).setModelVersion(MODEL.modelVersion())
                .setCodebookSha256(codebook).setGridHeight(MODEL.gridHeight()).setGridWidth(MODEL.gridWidth())
                .setCodebookSize(MODEL.codebookSize()).setDtype(TokenIdType.uint16)
                .setTokenIds(ByteBuffer.wrap(TokenIds.encode(ids, TokenIdType.uint16))).setMeanQuantError(0f)
                .setSourceTopic(null).setSourcePartition(null).setSourceOffset(null).setProcessedAt(Instant.EPOCH)
                .build();
    }

    private static int rgb(byte[] chw, int pixel, int plane) {
        return (chw[pixel] & 255) << 16 | (chw[plane + pixel] & 255) << 8 | (chw[2 * plane + pixel] & 255);
    }
}
