package io.vqrae.pipeline.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One section of docs/RELIABILITY.md, written as {@code <id>.json} by the test that measured it, so the report
 * is rendered from what the last test runs saw rather than written by hand.
 *
 * @param id file name and sort key of the section (for example {@code hostile-inputs}, {@code security})
 * @param title the section's heading
 * @param summary one paragraph above the table: what was run and the totals (lost, duplicated, restarts)
 * @param columns the table's header
 * @param rows the table's rows, each as long as {@code columns}
 */
public record ReliabilitySection(String id, String title, String summary, List<String> columns, List<List<String>> rows) {
    /** Where sections go: the system property {@code vqrae.reliability.dir} (set by Maven), else target/reliability. */
    public static final String DIRECTORY_PROPERTY = "vqrae.reliability.dir";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public ReliabilitySection {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(summary, "summary");
        columns = List.copyOf(columns);
        rows = rows.stream().map(List::copyOf).toList();
        for (List<String> row : rows) {
            if (row.size() != columns.size()) {
                throw new IllegalArgumentException("Row " + row + " has " + row.size() + " cells for " + columns.size() + " columns");
            }
        }
    }

    public static Path directory() {
        return Path.of(System.getProperty(DIRECTORY_PROPERTY, "target/reliability"));
    }

    /** Writes this section to {@link #directory()}, replacing the one a previous run wrote. */
    public Path write() throws IOException {
        Path file = directory().resolve(id + ".json");
        Files.createDirectories(file.getParent());
        JSON.writeValue(file.toFile(), this);
        return file;
    }

    public static ReliabilitySection read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), ReliabilitySection.class);
    }
}
