package io.vqrae.pipeline.corpus.source.reader;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.SourceFile;
import io.vqrae.pipeline.corpus.webdataset.TarSamples;
import io.vqrae.pipeline.corpus.webdataset.TarSamples.Member;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Reads the inputs of one corpus file, in order: a WebDataset {@code .tar} shard (recognised by the tar
 * magic, not the name) yields one input per sample, a loose file yields itself. Plain Java over Flink's
 * {@link FileSystem}, so the Flink source ({@link ImageFileFormat}) and {@code bin/vqrae load} read
 * corpora the same way from any filesystem Flink has a plugin for.
 *
 * <p>A shard's sample is its run of consecutive members sharing a key (the member name up to the first dot
 * of its base name, WebDataset's rule): {@code KEY.json} becomes the input's JSON metadata, {@code KEY.txt}
 * its text, and every other member an image whose format the decoder sniffs from its bytes. The image's id
 * is its key (a second image in one sample gets {@code KEY.EXT}); a sample without an image becomes an
 * unreadable input, so it still ends as a dead letter rather than vanishing. A loose file's id is its path
 * below the input folder it was found in; {@code NAME.json} and {@code NAME.txt} beside it are its metadata
 * (img2dataset's {@code files} layout).
 *
 * <p>No read grows with the input: an image over {@code maxImageBytes} and metadata over
 * {@value #MAX_METADATA_BYTES} bytes are not read into memory; they become unreadable inputs naming the size.
 */
public final class CorpusFileReader implements Closeable {
    /** Members and files of these extensions are metadata, never images. */
    public static final Set<String> METADATA_EXTENSIONS = Set.of("json", "txt", "parquet");

    static final int MAX_METADATA_BYTES = 1 << 20;
    private static final int TAR_MAGIC_OFFSET = 257;
    private static final byte[] TAR_MAGIC = "ustar".getBytes(StandardCharsets.US_ASCII);

    private final Path file;
    private final long length;
    private final String looseId;
    private final int maxImageBytes;
    private final InputStream in;
    private final TarSamples tar;
    private final List<InputImage> ready = new ArrayList<>();
    private boolean looseDone;

    private CorpusFileReader(Path file, long length, String looseId, int maxImageBytes, InputStream in, boolean shard) {
        this.file = file;
        this.length = length;
        this.looseId = looseId;
        this.maxImageBytes = maxImageBytes;
        this.in = in;
        this.tar = shard
                ? new TarSamples(in, extension -> METADATA_EXTENSIONS.contains(extension) ? MAX_METADATA_BYTES : maxImageBytes)
                : null;
    }

    /**
     * Opens {@code file}.
     *
     * @param length the file's size, as the listing that found it said (no second request for it)
     * @param looseId the id the file gets if it is a loose image rather than a shard
     * @param maxImageBytes the largest image read into memory ({@code limits.max-image-bytes})
     */
    public static CorpusFileReader open(Path file, long length, String looseId, int maxImageBytes) throws IOException {
        Objects.requireNonNull(looseId, "looseId");
        BufferedInputStream in = new BufferedInputStream(file.getFileSystem().open(file), 64 * 1024);
        boolean shard;
        try {
            in.mark(TAR_MAGIC_OFFSET + TAR_MAGIC.length);
            byte[] head = in.readNBytes(TAR_MAGIC_OFFSET + TAR_MAGIC.length);
            in.reset();
            shard = head.length == TAR_MAGIC_OFFSET + TAR_MAGIC.length
                    && Arrays.equals(head, TAR_MAGIC_OFFSET, head.length, TAR_MAGIC, 0, TAR_MAGIC.length);
        } catch (IOException e) {
            in.close();
            throw e;
        }
        return new CorpusFileReader(file, length, looseId, maxImageBytes, in, shard);
    }

    /** The next input, or null when the file has no more. */
    public InputImage next() throws IOException {
        if (tar == null) {
            if (looseDone) {
                return null;
            }
            looseDone = true;
            return loose();
        }
        while (ready.isEmpty()) {
            if (!readSample()) {
                return null;
            }
        }
        return ready.remove(0);
    }

    private InputImage loose() throws IOException {
        String name = file.getName();
        int dot = name.lastIndexOf('.');
        Path parent = file.getParent();
        String stem = dot > 0 ? name.substring(0, dot) : name;
        SourceFile source = new SourceFile(file.toString(), null,
                sidecar(new Path(parent, stem + ".json")), sidecar(new Path(parent, stem + ".txt")));
        if (length > maxImageBytes) {
            return tooLarge(looseId, length, source);
        }
        return InputImage.of(looseId, in.readNBytes((int) length), Origin.of(source));
    }

    private String sidecar(Path path) throws IOException {
        FileSystem fs = path.getFileSystem();
        if (!fs.exists(path)) {
            return null;
        }
        long length = fs.getFileStatus(path).getLen();
        if (length > MAX_METADATA_BYTES) {
            return null;
        }
        try (InputStream sidecar = fs.open(path)) {
            return new String(sidecar.readNBytes(MAX_METADATA_BYTES), StandardCharsets.UTF_8);
        }
    }

    private InputImage tooLarge(String id, long length, SourceFile source) {
        return InputImage.unreadable(id, new byte[0], Origin.of(source),
                "image of " + length + " bytes exceeds limits.max-image-bytes (" + maxImageBytes + ")");
    }

    /** Reads the next sample's inputs into {@link #ready}; false at the end of the shard. */
    private boolean readSample() throws IOException {
        TarSamples.Sample sample = tar.next();
        if (sample == null) {
            return false;
        }
        List<Member> members = sample.members();
        Member first = members.get(0);
        String json = null;
        String text = null;
        List<Member> images = new ArrayList<>();
        for (Member m : members) {
            switch (m.extension()) {
                case "json" -> json = m.data() == null ? null : new String(m.data(), StandardCharsets.UTF_8);
                case "txt" -> text = m.data() == null ? null : new String(m.data(), StandardCharsets.UTF_8);
                default -> {
                    if (!METADATA_EXTENSIONS.contains(m.extension())) {
                        images.add(m);
                    }
                }
            }
        }
        String key = sample.key();
        if (images.isEmpty()) {
            SourceFile source = new SourceFile(file.toString(), first.name(), json, text);
            ready.add(InputImage.unreadable(key, new byte[0], Origin.of(source),
                    "sample " + key + " of shard " + file + " has no image member (members: "
                            + members.stream().map(Member::name).toList() + ")"));
            return true;
        }
        for (int i = 0; i < images.size(); i++) {
            Member image = images.get(i);
            String id = i == 0 ? key : key + "." + image.extension();
            SourceFile source = new SourceFile(file.toString(), image.name(), json, text);
            ready.add(image.data() == null
                    ? tooLarge(id, image.size(), source)
                    : InputImage.of(id, image.data(), Origin.of(source)));
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
