package io.vqrae.pipeline.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.testing.TestPaths;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every command of {@code bin/vqrae} against the same four cases, a path that does not exist, an input that
 * cannot be used, an empty folder and {@code --help}: the exit code and the error line are the table of
 * docs/cli.md, which this test renders from what the commands did and compares with the file. The rule: a path
 * named that does not exist, cannot be read or holds no input is a usage error (exit 2, one line, before any
 * work); inputs none of which could be used end the run with exit 1 (each reported with its reason); {@code --help}
 * exits 0 and does nothing else.
 */
class CommandsTableTest {
    private static final Path DOC = TestPaths.root().resolve("docs/cli.md");
    private static final String BEGIN = "<!-- commands table: CommandsTableTest -->";
    private static final String END = "<!-- end of commands table -->";
    private static final String MODEL = TestPaths.tinyModel().toString();

    @TempDir
    static Path temp;

    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start(1 << 20);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        kafka.close();
    }

    /** One run: the command line as docs/cli.md shows it (paths relative to the test's folder), exit code, first error line. */
    private record Row(String command, String caseName, String shown, int exitCode, String error, long errorLines) {
        String markdown() {
            return "| " + command + " | " + caseName + " | `" + shown + "` | " + exitCode + " | " + (error.isEmpty() ? "" : "`" + error + "`") + " |";
        }
    }

    @Test
    void everyCommandTreatsAMissingAnUnusableAndAnEmptyInputAndHelpAlike() throws Exception {
        Files.createDirectories(temp.resolve("empty"));
        Files.createDirectories(temp.resolve("broken"));
        // Text where an image, a tar shard, Avro or YAML is expected.
        Files.writeString(temp.resolve("broken/page.jpg"), "<!doctype html><html><body>not an image</body></html>");
        // A shard whose one sample has a caption and no image: what load itself cannot send (other bytes go to the job).
        Files.createDirectories(temp.resolve("captions"));
        byte[] caption = "a caption without its image".getBytes(StandardCharsets.UTF_8);
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(Files.newOutputStream(temp.resolve("captions/shard.tar")))) {
            TarArchiveEntry entry = new TarArchiveEntry("sample-1.txt");
            entry.setSize(caption.length);
            tar.putArchiveEntry(entry);
            tar.write(caption);
            tar.closeArchiveEntry();
        }
        Files.writeString(temp.resolve("broken.avro"), "not an Avro file, though its name says so");
        Files.writeString(temp.resolve("broken.yaml"), "kafka: [unclosed");

        String kafkaOption = "--bootstrap-servers=" + kafka.bootstrapServers();
        List<Row> rows = new ArrayList<>();
        rows.addAll(command("run", "--config no/such/path", "--config broken.yaml", "--config empty"));
        rows.addAll(command("tokenize", "--model " + MODEL + " no/such/path", "--model " + MODEL + " broken/page.jpg",
                "--model " + MODEL + " empty"));
        rows.addAll(command("tokenize-corpus", "--output out/corpus-1 no/such/path",
                "--model " + MODEL + " --output out/corpus-2 --set checkpoint.interval=200ms broken/page.jpg", "--output out/corpus-3 empty"));
        rows.addAll(command("load", kafkaOption + " no/such/path", kafkaOption + " captions/shard.tar", kafkaOption + " empty"));
        rows.addAll(command("reconstruct", "--model " + MODEL + " --output out/r no/such/path",
                "--model " + MODEL + " --output out/r broken/page.jpg", "--model " + MODEL + " --output out/r empty"));
        rows.addAll(command("detokenize", "--model " + MODEL + " --output out/d no/such/path",
                "--model " + MODEL + " --output out/d broken.avro", "--model " + MODEL + " --output out/d empty"));
        rows.addAll(command("demo", "--images no/such/path",
                "--model " + MODEL + " --images broken --preview out/p.png --codebook-plot out/c.png --set metrics.port=0",
                "--images empty"));
        rows.addAll(command("bench", "--images no/such/path", "--model " + MODEL + " --parts decode --images broken", "--images empty"));

        List<String> table = new ArrayList<>(List.of(
                "| command | case | arguments | exit | error line (stderr) |", "|---|---|---|---|---|"));
        rows.forEach(row -> table.add(row.markdown()));
        String doc = Files.readString(DOC);
        assertThat(doc).contains(BEGIN, END);
        String documented = doc.substring(doc.indexOf(BEGIN) + BEGIN.length(), doc.indexOf(END)).strip();
        assertThat(documented).as("docs/cli.md's table, as the commands behave (the rendered table is the expected value)")
                .isEqualTo(String.join("\n", table));

        for (Row row : rows) {
            switch (row.caseName()) {
                case "missing path", "empty folder" -> assertThat(row.exitCode()).as(row.markdown()).isEqualTo(2);
                case "unusable input" -> assertThat(row.exitCode()).as(row.markdown()).isEqualTo(row.command().equals("run") ? 2 : 1);
                default -> assertThat(row.exitCode()).as(row.markdown()).isZero();
            }
            assertThat(row.errorLines()).as("lines on stderr: " + row.markdown()).isEqualTo(row.exitCode() == 0 ? 0 : 1);
        }
    }

    /** The command's four rows; {@code unusable} is null where the case has no meaning for the command. */
    private static List<Row> command(String name, String missing, String unusable, String empty) {
        List<Row> rows = new ArrayList<>();
        rows.add(run(name, "missing path", missing));
        if (unusable != null) {
            rows.add(run(name, "unusable input", unusable));
        }
        rows.add(run(name, "empty folder", empty));
        rows.add(run(name, "help", "--help"));
        return rows;
    }

    private static Row run(String name, String caseName, String arguments) {
        List<String> args = new ArrayList<>(List.of(name));
        for (String arg : arguments.split(" ")) {
            boolean path = arg.equals("no/such/path") || arg.equals("empty") || arg.startsWith("broken") || arg.startsWith("captions/") || arg.startsWith("out/");
            args.add(path ? temp.resolve(arg).toString() : arg);
        }
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        CommandLine cli = ToolsCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(out, true));
        int exit = cli.execute(args.toArray(String[]::new));
        String firstLine = err.toString().lines().findFirst().orElse("").replace(temp + "/", "");
        long errorLines = err.toString().lines().count();
        if (caseName.equals("help")) {
            assertThat(out.toString()).as(name + " --help").startsWith("Usage: vqrae " + name + " ");
        }
        // The model of the tests and the broker's address are not what a reader needs to see.
        String shown = (name + " " + arguments).replace("--model " + MODEL + " ", "").replace(kafka.bootstrapServers(), "HOST:PORT");
        return new Row(name, caseName, shown, exit, firstLine.replace(kafka.bootstrapServers(), "HOST:PORT"), errorLines);
    }
}
