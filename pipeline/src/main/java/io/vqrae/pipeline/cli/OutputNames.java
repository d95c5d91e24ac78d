package io.vqrae.pipeline.cli;

/** File names for outputs named after inputs or record ids, which may hold any character. */
final class OutputNames {
    private OutputNames() {}

    /** {@code name} with every character but letters, digits, '.', '-' and '_' replaced by '_'. */
    static String safe(String name) {
        String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return safe.isEmpty() || safe.startsWith(".") ? "_" + safe : safe;
    }
}
