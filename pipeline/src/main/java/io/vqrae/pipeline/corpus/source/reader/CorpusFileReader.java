package io.vqrae.pipeline.corpus.source.reader;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.data.SourceFile;
import io.vqrae.operators.decode.InputLimits;
import io.vqrae.pipeline.corpus.source.split.CorpusSplit;
import io.vqrae.pipeline.corpus.format.webdataset.TarSamples;
import io.vqrae.pipeline.corpus.format.webdataset.TarSamples.Member;
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
import org.apache.flink.core.fs.FSDataInputStream;
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
 * <p>No read grows with the input: an image over {@code limits.max-image-bytes} and a metadata or text sidecar
 * over {@code limits.max-metadata-bytes} are not read into memory; the input becomes an unreadable one naming
 * the size ({@code malformed_record} for the image, {@code record_too_large} for its metadata, as the encoder
 * would have named metadata within this bound but over it together), so it ends as a dead letter, never as a
 * sample without its caption.
 *
 * <p>Reading a file costs one open of it: the sidecars a loose image has come from the listing that found it
 * (no existence check per image, which object stores bill as a request), and a shard resumed from a
 * checkpoint is opened at the offset of its next sample instead of read again from its start.
 */
public final class CorpusFileReader implements Closeable {
    /** Members and files of these extensions are metadata, never images. */
    public static final Set<String> METADATA_EXTENSIONS = Set.of("json", "txt", "parquet");

    private static final int TAR_MAGIC_OFFSET = 257;
    private static final byte[] TAR_MAGIC = "ustar".getBytes(StandardCharsets.US_ASCII);

    private final CorpusSplit split;
    private final Path file;
    private final InputLimits limits;
    private final InputStream in;
    private final TarSamples tar;
    private final long base;
    private final List<InputImage> ready = new ArrayList<>();
    /** Inputs still to drop, emitted before the split was checkpointed. */
    private long toSkip;
    /** Where the sample after those in {@link #ready} starts. */
    private long nextSample;
    /** Where the sample whose inputs are in {@link #ready} starts, and how many of them are out. */
    private long readySample;
    private long readyEmitted;
    private boolean looseDone;

    private CorpusFileReader(CorpusSplit split, InputLimits limits, InputStream in, boolean shard) {
        this.split = split;
        this.file = new Path(split.path());
        this.limits = limits;
        this.in = in;
        this.base = split.offset();
        this.nextSample = split.offset();
        this.toSkip = split.skip();
        this.tar = shard
                ? new TarSamples(in, extension -> METADATA_EXTENSIONS.contains(extension) ? limits.maxMetadataBytes() : limits.maxImageBytes())
                : null;
    }

    /**
     * Opens {@code split}'s file where the split left off.
     *
     * @param limits the largest image ({@code max-image-bytes}) and sidecar ({@code max-metadata-bytes}) read into memory
     */
    public static CorpusFileReader open(CorpusSplit split, InputLimits limits) throws IOException {
        Path file = new Path(split.path());
        FSDataInputStream raw = file.getFileSystem().open(file);
        try {
            if (split.offset() > 0) {
                // Only shards have offsets: resume at the sample's first header.
                raw.seek(split.offset());
                return new CorpusFileReader(split, limits, new BufferedInputStream(raw, 64 * 1024), true);
            }
            BufferedInputStream in = new BufferedInputStream(raw, 64 * 1024);
            in.mark(TAR_MAGIC_OFFSET + TAR_MAGIC.length);
            byte[] head = in.readNBytes(TAR_MAGIC_OFFSET + TAR_MAGIC.length);
            in.reset();
            boolean shard = head.length == TAR_MAGIC_OFFSET + TAR_MAGIC.length
                    && Arrays.equals(head, TAR_MAGIC_OFFSET, head.length, TAR_MAGIC, 0, TAR_MAGIC.length);
            return new CorpusFileReader(split, limits, in, shard);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** The next input, or null when the file has no more. */
    public InputImage next() throws IOException {
        if (tar == null) {
            if (looseDone || toSkip > 0) {
                looseDone = true;
                return null;
            }
            looseDone = true;
            return loose();
        }
        while (true) {
            while (ready.isEmpty()) {
                if (!readSample()) {
                    return null;
                }
            }
            InputImage next = ready.remove(0);
            readyEmitted++;
            if (toSkip == 0) {
                return next;
            }
            toSkip--;
        }
    }

    /** The split as far as {@link #next} got, for a checkpoint. */
    public CorpusSplit position() {
        if (tar == null) {
            return split.at(0, looseDone ? 1 : 0);
        }
        return ready.isEmpty() ? split.at(nextSample, 0) : split.at(readySample, readyEmitted);
    }

    private InputImage loose() throws IOException {
        String id = split.looseId();
        byte[] json = sidecar(split.jsonSidecar());
        byte[] text = sidecar(split.textSidecar());
        String oversized = oversized(json) ? split.jsonSidecar() : oversized(text) ? split.textSidecar() : null;
        SourceFile source = oversized == null
                ? new SourceFile(file.toString(), null, utf8(json), utf8(text))
                : new SourceFile(file.toString(), null, null, null);
        if (split.length() > limits.maxImageBytes()) {
            return tooLarge(id, split.length(), source);
        }
        byte[] image = in.readNBytes((int) split.length());
        return oversized == null
                ? InputImage.of(id, image, Origin.of(source))
                : metadataTooLarge(id, image, source, "sidecar " + oversized + " holds more than " + limits.maxMetadataBytes() + " bytes");
    }

    /** A sidecar's bytes, at most one over the metadata limit; null when there is none. */
    private byte[] sidecar(String uri) throws IOException {
        if (uri == null) {
            return null;
        }
        Path path = new Path(uri);
        try (InputStream sidecar = path.getFileSystem().open(path)) {
            return sidecar.readNBytes(limits.maxMetadataBytes() + 1);
        }
    }

    private boolean oversized(byte[] sidecar) {
        return sidecar != null && sidecar.length > limits.maxMetadataBytes();
    }

    private static String utf8(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    private InputImage tooLarge(String id, long length, SourceFile source) {
        return InputImage.unreadable(id, new byte[0], Origin.of(source), ReasonCode.MALFORMED_RECORD,
                "image of " + length + " bytes exceeds limits.max-image-bytes (" + limits.maxImageBytes() + ")");
    }

    /** Metadata is never cut (a cut JSON document is not JSON) nor dropped (a sample without its caption). */
    private InputImage metadataTooLarge(String id, byte[] image, SourceFile source, String what) {
        return InputImage.unreadable(id, image, Origin.of(source), ReasonCode.RECORD_TOO_LARGE,
                what + ", over limits.max-metadata-bytes (" + limits.maxMetadataBytes() + ")");
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
        Member oversized = null;
        List<Member> images = new ArrayList<>();
        for (Member m : members) {
            boolean metadata = m.extension().equals("json") || m.extension().equals("txt");
            if (metadata && m.data() == null) {
                oversized = m;
                continue;
            }
            switch (m.extension()) {
                case "json" -> json = utf8(m.data());
                case "txt" -> text = utf8(m.data());
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
            ready.add(InputImage.unreadable(key, new byte[0], Origin.of(source), ReasonCode.MALFORMED_RECORD,
                    "sample " + key + " of shard " + file + " has no image member (members: "
                            + members.stream().map(Member::name).toList() + ")"));
        } else {
            for (int i = 0; i < images.size(); i++) {
                Member image = images.get(i);
                String id = i == 0 ? key : key + "." + image.extension();
                SourceFile source = new SourceFile(file.toString(), image.name(), json, text);
                if (image.data() == null) {
                    ready.add(tooLarge(id, image.size(), source));
                } else if (oversized != null) {
                    ready.add(metadataTooLarge(id, image.data(), source, "member " + oversized.name() + " holds " + oversized.size() + " bytes"));
                } else {
                    ready.add(InputImage.of(id, image.data(), Origin.of(source)));
                }
            }
        }
        readySample = nextSample;
        readyEmitted = 0;
        nextSample = base + sample.end();
        return true;
    }

    /** The inputs a shard's sample yields: one per image member, or one dead letter when it has none. */
    public static int inputsOf(TarSamples.Sample sample) {
        int images = 0;
        for (Member member : sample.members()) {
            images += METADATA_EXTENSIONS.contains(member.extension()) ? 0 : 1;
        }
        return Math.max(1, images);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
