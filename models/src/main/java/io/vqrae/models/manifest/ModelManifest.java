package io.vqrae.models.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.preprocess.CropMode;
import io.vqrae.models.preprocess.PreprocessSpec;
import io.vqrae.models.preprocess.ResizeFilter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code manifest.json} that travels next to a VQRAE model's ONNX graphs: which model it is, the
 * shapes its graphs promise, how images must be preprocessed for it, and the SHA-256 of the codebook and
 * of each graph. Everything downstream (token records, feature records, the sessions) reads these facts
 * from here rather than from the graphs, so a manifest that does not match its graphs is refused when a
 * session opens.
 *
 * <p>A manifest is loaded once, on the client that builds a job, and travels to the operators inside their
 * specs (hence {@link Serializable}); no operator reads {@code manifest.json} again. Sessions still verify
 * each graph's SHA-256 against it where they open the graph ({@link #verifiedGraph}).
 *
 * <p>The format is documented field by field in {@code models/README.md}.
 *
 * @param location the model directory the manifest was read from, absolute and normalised (a string
 *     because {@link Path} is not serializable; {@link #directory()} gives the path)
 * @param modelId e.g. {@code vqrae-tiny}
 * @param modelVersion the model's version string
 * @param codebookSize K, the number of codes
 * @param codeDim dimension of each code
 * @param gridHeight token grid rows
 * @param gridWidth token grid columns
 * @param featureDim width d of the encoder's semantic features
 * @param preprocessing how a decoded RGB image becomes the graph's uint8 input
 * @param alphaBackground RGB colour transparent pixels are composited on, three values 0..255
 * @param codebookSha256 hex SHA-256 of the effective codebook (float32, little-endian, row-major)
 * @param graphs the exported graphs by role ({@code encoder}, {@code decoder})
 */
public record ModelManifest(
        String location,
        String modelId,
        String modelVersion,
        int codebookSize,
        int codeDim,
        int gridHeight,
        int gridWidth,
        int featureDim,
        PreprocessSpec preprocessing,
        List<Integer> alphaBackground,
        String codebookSha256,
        Map<String, GraphSpec> graphs) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The manifest format this code reads. */
    public static final int FORMAT_VERSION = 1;

    public static final String FILE_NAME = "manifest.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SHA256_HEX = "[0-9a-f]{64}";

    /** Invariants only; {@link #load} reports a bad file key by key before it gets here. */
    public ModelManifest {
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(modelVersion, "modelVersion");
        Objects.requireNonNull(preprocessing, "preprocessing");
        if (codebookSize <= 0 || codeDim <= 0 || gridHeight <= 0 || gridWidth <= 0 || featureDim <= 0) {
            throw new IllegalArgumentException("Sizes must be positive: codebookSize=" + codebookSize + ", codeDim="
                    + codeDim + ", grid=" + gridHeight + "x" + gridWidth + ", featureDim=" + featureDim);
        }
        alphaBackground = List.copyOf(alphaBackground);
        if (alphaBackground.size() != 3 || alphaBackground.stream().anyMatch(c -> c < 0 || c > 255)) {
            throw new IllegalArgumentException("alphaBackground must be three values 0..255, got " + alphaBackground);
        }
        if (!Objects.requireNonNull(codebookSha256, "codebookSha256").matches(SHA256_HEX)) {
            throw new IllegalArgumentException("codebookSha256 must be 64 lower-case hex digits, got " + codebookSha256);
        }
        graphs = Map.copyOf(graphs);
    }

    /** The model directory. */
    public Path directory() {
        return Path.of(location);
    }

    /** This manifest for a copy of its model in {@code copy} (a TaskManager's local cache of a model on a filesystem URI). */
    public ModelManifest at(Path copy) {
        return new ModelManifest(copy.toAbsolutePath().normalize().toString(), modelId, modelVersion, codebookSize, codeDim,
                gridHeight, gridWidth, featureDim, preprocessing, alphaBackground, codebookSha256, graphs);
    }

    /** Tokens per image, {@code gridHeight * gridWidth}. */
    public int numTokens() {
        return gridHeight * gridWidth;
    }

    public int imageHeight() {
        return preprocessing.height();
    }

    public int imageWidth() {
        return preprocessing.width();
    }

    /** Bytes of one preprocessed image as the encoder takes it: uint8 [3, H, W]. */
    public int imageBytes() {
        return 3 * imageHeight() * imageWidth();
    }

    /**
     * An {@link ImageDecoder} builder set up for this model (transparent pixels composited over the model's
     * {@code alpha_background}); callers may still set the size limits. Every path from image bytes to this
     * model's input starts here, so the job, the command line and the tests decode alike.
     */
    public ImageDecoder.Builder imageDecoder() {
        return ImageDecoder.builder()
                .alphaBackground(alphaBackground.get(0), alphaBackground.get(1), alphaBackground.get(2));
    }

    /** The graph with this role, or a {@link ModelLoadException} naming the manifest key. */
    public GraphSpec graph(String role) throws ModelLoadException {
        GraphSpec spec = graphs.get(role);
        if (spec == null) {
            throw new ModelLoadException(
                    directory().resolve(FILE_NAME) + ": 'graphs." + role + "' is missing; this model has " + graphs.keySet());
        }
        return spec;
    }

    /**
     * The file of the graph with this role after checking that its bytes have the SHA-256 this manifest
     * records, so a graph from another export is refused before ONNX Runtime loads it.
     */
    public Path verifiedGraph(String role) throws ModelLoadException {
        GraphSpec spec = graph(role);
        Path file = directory().resolve(spec.file()).normalize();
        if (!file.startsWith(directory())) {
            throw new ModelLoadException(directory().resolve(FILE_NAME) + ": 'graphs." + role + ".file' ("
                    + spec.file() + ") points outside the model directory");
        }
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java platform has SHA-256", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new ModelLoadException("Cannot read graph " + file + ": " + e.getMessage(), e);
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        if (!actual.equals(spec.sha256())) {
            throw new ModelLoadException("Graph " + file + " has SHA-256 " + actual + " but " + FILE_NAME
                    + " expects " + spec.sha256() + ": the graph and the manifest come from different exports");
        }
        return file;
    }

    /**
     * Reads and validates {@code <modelDir>/manifest.json} and checks every graph it lists against its
     * SHA-256: what a client does once before it builds a job.
     */
    public static ModelManifest loadVerified(Path modelDir) throws ModelLoadException {
        ModelManifest manifest = load(modelDir);
        for (String role : manifest.graphs().keySet()) {
            manifest.verifiedGraph(role);
        }
        return manifest;
    }

    /** Reads and validates {@code <modelDir>/manifest.json}; the error names the offending key. */
    public static ModelManifest load(Path modelDir) throws ModelLoadException {
        modelDir = modelDir.toAbsolutePath().normalize();
        Path file = modelDir.resolve(FILE_NAME);
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(
                    "No model manifest at " + file + " (is '" + modelDir + "' a VQRAE model directory?)", e);
        } catch (IOException e) {
            throw new ModelLoadException("Cannot read " + file + ": " + e.getMessage(), e);
        }
        return new Parser(file, root).parse(modelDir);
    }

    /** Field-by-field reader whose errors say which key of which file is wrong. */
    private static final class Parser {
        private final Path file;
        private final JsonNode root;

        Parser(Path file, JsonNode root) {
            this.file = file;
            this.root = root;
        }

        ModelManifest parse(Path modelDir) throws ModelLoadException {
            if (root == null || !root.isObject()) {
                throw error("", "the file must hold a JSON object");
            }
            int format = positiveInt(root, "format_version");
            if (format != FORMAT_VERSION) {
                throw error("format_version", "is " + format + ", this build reads " + FORMAT_VERSION);
            }
            int[] grid = intPair(root, "token_grid");
            int numTokens = positiveInt(root, "num_tokens");
            if (numTokens != grid[0] * grid[1]) {
                throw error("num_tokens", "is " + numTokens + " but token_grid is " + grid[0] + "x" + grid[1]);
            }
            JsonNode pre = object(root, "preprocessing");
            int[] size = intPair(pre, "preprocessing.size");
            int[] imageSize = intPair(root, "image_size");
            if (size[0] != imageSize[0] || size[1] != imageSize[1]) {
                throw error("preprocessing.size", "differs from image_size");
            }
            PreprocessSpec spec;
            try {
                spec = new PreprocessSpec(size[0], size[1],
                        constant(pre, "preprocessing.filter", ResizeFilter.class),
                        constant(pre, "preprocessing.crop", CropMode.class));
            } catch (IllegalArgumentException e) {
                throw error("preprocessing", e.getMessage());
            }
            List<Integer> background = rgb(pre, "preprocessing.alpha_background");

            JsonNode graphsNode = object(root, "graphs");
            Map<String, GraphSpec> graphs = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> entry : graphsNode.properties()) {
                String key = "graphs." + entry.getKey();
                JsonNode graph = object(graphsNode, entry.getKey(), key);
                graphs.put(entry.getKey(), new GraphSpec(
                        text(graph, key + ".file"), sha256(graph, key + ".sha256"), text(graph, key + ".precision")));
            }
            return new ModelManifest(
                    modelDir.toString(),
                    text(root, "model_id"),
                    text(root, "model_version"),
                    positiveInt(root, "codebook_size"),
                    positiveInt(root, "code_dim"),
                    grid[0],
                    grid[1],
                    positiveInt(root, "feature_dim"),
                    spec,
                    background,
                    sha256(root, "codebook_sha256"),
                    graphs);
        }

        private JsonNode field(JsonNode parent, String key) throws ModelLoadException {
            JsonNode node = parent.get(leaf(key));
            if (node == null || node.isNull()) {
                throw error(key, "is missing");
            }
            return node;
        }

        private JsonNode object(JsonNode parent, String key) throws ModelLoadException {
            return object(parent, leaf(key), key);
        }

        private JsonNode object(JsonNode parent, String name, String key) throws ModelLoadException {
            JsonNode node = parent.get(name);
            if (node == null || !node.isObject()) {
                throw error(key, "must be an object");
            }
            return node;
        }

        private String text(JsonNode parent, String key) throws ModelLoadException {
            JsonNode node = field(parent, key);
            if (!node.isTextual() || node.asText().isBlank()) {
                throw error(key, "must be a non-empty string");
            }
            return node.asText();
        }

        /** The constant of {@code type} named by the key's value, in any case. */
        private <E extends Enum<E>> E constant(JsonNode parent, String key, Class<E> type) throws ModelLoadException {
            String value = text(parent, key);
            try {
                return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw error(key, "must be one of " + Arrays.stream(type.getEnumConstants()).map(Object::toString).toList()
                        + ", got '" + value + "'");
            }
        }

        private String sha256(JsonNode parent, String key) throws ModelLoadException {
            String value = text(parent, key);
            if (!value.matches(SHA256_HEX)) {
                throw error(key, "must be 64 lower-case hex digits, got '" + value + "'");
            }
            return value;
        }

        private int positiveInt(JsonNode parent, String key) throws ModelLoadException {
            JsonNode node = field(parent, key);
            if (!node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() <= 0) {
                throw error(key, "must be a positive integer, got " + node);
            }
            return node.asInt();
        }

        private int[] intPair(JsonNode parent, String key) throws ModelLoadException {
            JsonNode node = field(parent, key);
            if (!node.isArray() || node.size() != 2
                    || !node.get(0).isIntegralNumber() || !node.get(1).isIntegralNumber()
                    || node.get(0).asInt() <= 0 || node.get(1).asInt() <= 0) {
                throw error(key, "must be [height, width] of positive integers, got " + node);
            }
            return new int[] {node.get(0).asInt(), node.get(1).asInt()};
        }

        private List<Integer> rgb(JsonNode parent, String key) throws ModelLoadException {
            JsonNode node = field(parent, key);
            if (!node.isArray() || node.size() != 3) {
                throw error(key, "must be [r, g, b], got " + node);
            }
            Integer[] values = new Integer[3];
            for (int c = 0; c < 3; c++) {
                JsonNode v = node.get(c);
                if (!v.isIntegralNumber() || v.asInt() < 0 || v.asInt() > 255) {
                    throw error(key, "values must be integers 0..255, got " + node);
                }
                values[c] = v.asInt();
            }
            return List.of(values);
        }

        private static String leaf(String key) {
            return key.substring(key.lastIndexOf('.') + 1);
        }

        private ModelLoadException error(String key, String problem) {
            return new ModelLoadException(file + ": " + (key.isEmpty() ? "" : "'" + key + "' ") + problem);
        }
    }
}
