package io.vqrae.pipeline.cli;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * The names of the PNGs {@code reconstruct} and {@code detokenize} write, one rule whatever the source
 * (docs/cli.md): an image's PNG is named after its id, the name {@code tokenize-corpus} and the streaming job
 * give it (a file's path below the folder named, or its name; a shard sample's id), with every character but
 * letters, digits, '.', '-' and '_' replaced by '_', and {@code .png} appended; a second image of the same name
 * gets {@code -2}, then {@code -3}... So {@code photos/a/cat.jpg} read from {@code photos/} is
 * {@code a_cat.jpg.png} from every source.
 */
final class PngNames {
    private final Path folder;
    private final Set<String> taken = new HashSet<>();

    PngNames(Path folder) {
        this.folder = folder;
    }

    /** The file for the next image of {@code id}. */
    Path next(String id) {
        String base = safe(id);
        String name = base + ".png";
        for (int n = 2; !taken.add(name); n++) {
            name = base + "-" + n + ".png";
        }
        return folder.resolve(name);
    }

    /** {@code id} with every character but letters, digits, '.', '-' and '_' replaced by '_', never hidden. */
    static String safe(String id) {
        String safe = id.replaceAll("[^A-Za-z0-9._-]", "_");
        return safe.isEmpty() || safe.startsWith(".") ? "_" + safe : safe;
    }
}
