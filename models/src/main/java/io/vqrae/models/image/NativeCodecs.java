package io.vqrae.models.image;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.util.ArrayList;
import java.util.List;

/**
 * The host's codec libraries that {@link TurboJpeg} and {@link LibWebp} bind to, and the one place they are
 * loaded.
 *
 * <p>They are the system's shared libraries, the same ones Pillow links on that host, loaded through JNA.
 * JNA keeps one handle per library for the class loader that holds JNA: on a Flink cluster JNA belongs in
 * {@code flink/lib} next to ONNX Runtime and is loaded parent-first ({@code com.sun.jna.} in
 * {@code classloader.parent-first-patterns.additional}), so every job in a TaskManager shares one copy of
 * each library; see docs/pipeline.md.
 */
final class NativeCodecs {

    /** A shared library, the names to try (generic first, then the Linux soname) and where to get it. */
    record Library(String description, List<String> names, String debianPackage, String homebrewFormula) {}

    static final Library TURBOJPEG = new Library("libjpeg-turbo's TurboJPEG library (JPEG)",
            List.of("turbojpeg", "libturbojpeg.so.0"), "libturbojpeg0", "jpeg-turbo");
    static final Library WEBP = new Library("libwebp (WebP)", List.of("webp", "libwebp.so.7"), "libwebp7", "webp");
    static final Library WEBP_DEMUX = new Library("libwebpdemux (WebP animation and alpha)",
            List.of("webpdemux", "libwebpdemux.so.2"), "libwebpdemux2", "webp");

    private static final List<Library> ALL = List.of(TURBOJPEG, WEBP, WEBP_DEMUX);

    private NativeCodecs() {}

    /**
     * Loads every codec library now.
     *
     * @throws IllegalStateException naming each missing library and how to install it
     */
    static void requireAvailable() {
        List<String> missing = new ArrayList<>();
        for (Library library : ALL) {
            try {
                load(library);
            } catch (UnsatisfiedLinkError e) {
                missing.add(e.getMessage());
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("ImageDecoder needs the host's codec libraries, the ones Pillow uses: "
                    + String.join("; ", missing) + ". On Debian/Ubuntu bin/setup installs them (apt-get install "
                    + "libturbojpeg0 libwebp7 libwebpdemux2); on macOS: brew install jpeg-turbo webp");
        }
    }

    /** Binds the {@code native} methods of {@code type} to {@code library}. */
    static void register(Class<?> type, Library library) {
        Native.register(type, load(library));
    }

    static NativeLibrary load(Library library) {
        List<String> errors = new ArrayList<>();
        for (String name : library.names()) {
            try {
                return NativeLibrary.getInstance(name);
            } catch (UnsatisfiedLinkError e) {
                errors.add(name);
            }
        }
        throw new UnsatisfiedLinkError(library.description() + " is not installed (tried " + String.join(", ", errors)
                + "; Debian package " + library.debianPackage() + ", Homebrew " + library.homebrewFormula() + ")");
    }
}
