package io.vqrae.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a test needs to know of a Dockerfile, with the build arguments at their defaults (as {@code docker build}
 * without {@code --build-arg} sees them): the stages' base images and the files the final stage copies in.
 * Only the instructions these images use are read: FROM, ARG and COPY, with continuation lines.
 */
record Dockerfile(List<String> baseImages, Map<String, String> args, List<Copy> copies) {
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)}|\\$(\\w+)");

    /** A COPY of the final stage: its sources (from the build context, or {@code from} a stage) and destination. */
    record Copy(String from, List<String> sources, String destination) {
        /** The destination path of {@code source}: the destination itself, or inside it when it is a folder. */
        String target(String source) {
            return destination.endsWith("/") ? destination + source.substring(source.lastIndexOf('/') + 1) : destination;
        }
    }

    static Dockerfile read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> global = new HashMap<>();
        Map<String, String> stage = null;
        List<String> bases = new ArrayList<>();
        List<Copy> copies = new ArrayList<>();
        for (String instruction : instructions(lines)) {
            String[] parts = instruction.split("\\s+", 2);
            String keyword = parts[0].toUpperCase();
            String rest = parts.length > 1 ? parts[1] : "";
            Map<String, String> scope = stage == null ? global : stage;
            switch (keyword) {
                case "ARG" -> {
                    String[] arg = rest.split("=", 2);
                    // An ARG without a default inside a stage takes the global one's (docker's rule).
                    scope.put(arg[0], arg.length > 1 ? substitute(arg[1], scope) : global.get(arg[0]));
                }
                case "FROM" -> {
                    bases.add(substitute(rest.split("\\s+")[0], global));
                    stage = new LinkedHashMap<>();
                    copies.clear();
                }
                case "COPY" -> {
                    List<String> words = new ArrayList<>(Arrays.asList(rest.split("\\s+")));
                    String from = null;
                    while (words.get(0).startsWith("--")) {
                        String flag = words.remove(0);
                        if (flag.startsWith("--from=")) {
                            from = flag.substring("--from=".length());
                        }
                    }
                    Map<String, String> values = scope;
                    List<String> paths = words.stream().map(w -> substitute(w, values)).toList();
                    copies.add(new Copy(from, paths.subList(0, paths.size() - 1), paths.get(paths.size() - 1)));
                }
                default -> { }
            }
        }
        return new Dockerfile(List.copyOf(bases), stage == null ? Map.of() : Map.copyOf(stage), List.copyOf(copies));
    }

    /** The final stage's copies from the build context (not from another stage). */
    List<Copy> contextCopies() {
        return copies.stream().filter(c -> c.from() == null).toList();
    }

    /** Instructions with continuation lines joined, comments and blank lines dropped. */
    private static List<String> instructions(List<String> lines) {
        List<String> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : lines) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.isEmpty())) {
                continue;
            }
            boolean continues = trimmed.endsWith("\\");
            current.append(continues ? trimmed.substring(0, trimmed.length() - 1) : trimmed).append(' ');
            if (!continues) {
                instructions.add(current.toString().strip());
                current.setLength(0);
            }
        }
        return instructions;
    }

    private static String substitute(String text, Map<String, String> values) {
        Matcher m = VARIABLE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            String value = values.get(name);
            if (value == null) {
                throw new IllegalArgumentException("no value for $" + name + " in '" + text + "'");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        return m.appendTail(out).toString();
    }
}
