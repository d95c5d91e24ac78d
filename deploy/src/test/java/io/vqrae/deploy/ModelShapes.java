package io.vqrae.deploy;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.ModelConfig;
import java.nio.file.Path;
import java.util.Map;

/**
 * The manifest that sizes a deployment's records. A deployed model lives on a cluster volume, not here: the
 * shipped tiny model is read from models/tiny, and a so400m preset gets the tiny manifest with the preset's sizes
 * (models/python/vqrae/config.py: patch 16, width 1152, codebook 16384 x 1536; models/README.md), which is all
 * {@link io.vqrae.operators.encode.RecordLimits} reads: tokens, feature width, codebook size.
 */
final class ModelShapes {
    /** Preset name -> {image size / patch size, feature dim (width), codebook size, code dim}. */
    private static final Map<String, int[]> PRESETS = Map.of(
            "so400m-256", new int[] {16, 1152, 16384, 1536},
            "so400m-512", new int[] {32, 1152, 16384, 1536});

    private ModelShapes() {}

    /** The manifest for a model directory named after its preset ({@code .../so400m-256}) or the shipped tiny model. */
    static ModelManifest of(ModelConfig model) {
        String name = Path.of(model.dir()).getFileName().toString();
        return name.equals("tiny") ? tiny() : of(name);
    }

    /** The manifest of preset {@code name}. */
    static ModelManifest of(String name) {
        int[] shape = PRESETS.get(name);
        if (shape == null) {
            throw new IllegalArgumentException("model directory " + name + " is no preset of " + PRESETS.keySet()
                    + " or tiny: add its sizes to ModelShapes");
        }
        ModelManifest tiny = tiny();
        return new ModelManifest(tiny.location(), "vqrae-" + name, tiny.modelVersion(), shape[2], shape[3], shape[0], shape[0],
                shape[1], tiny.preprocessing(), tiny.alphaBackground(), tiny.codebookSha256(), tiny.graphs());
    }

    private static ModelManifest tiny() {
        try {
            return ModelManifest.load(Manifests.ROOT.resolve("models/tiny"));
        } catch (ModelLoadException e) {
            throw new IllegalStateException(e);
        }
    }
}
