package io.vqrae.models.image;

import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.spi.ServiceRegistry;

/**
 * The ImageIO reader providers {@link ImageDecoder} uses (PNG, GIF, BMP, and JPEG in CMYK), held in a
 * registry of its own rather than looked up in ImageIO's JVM-wide one.
 *
 * <p>Why: the JVM-wide {@link IIORegistry} scans for plugins once, with whatever context class loader the
 * first caller has. In a Flink TaskManager the TwelveMonkeys plugins come with the job jar, in a user-code
 * class loader: if the registry was first touched elsewhere they are missing, and if a task thread touched
 * it first they are pinned there, leaking that job's class loader into every later job. So the TwelveMonkeys
 * providers are created here, from this class's own class loader, and only the JDK's built-in readers are
 * taken from the JVM-wide registry, which is initialised with the system class loader as context so that
 * no user-code class loader ends up in it.
 */
final class ReaderProviders {
    private static final String JDK_PLUGINS = "com.sun.imageio.plugins.";

    private ReaderProviders() {}

    /** A provider for every {@link ImageFormat} but WebP (libwebp's); fails if one is missing from the runtime. */
    static Map<ImageFormat, ImageReaderSpi> create() {
        ServiceRegistry registry = new ServiceRegistry(List.<Class<?>>of(ImageReaderSpi.class).iterator());
        // The JDK's JPEG reader must be present before TwelveMonkeys' registers: it delegates to it.
        Iterator<ImageReaderSpi> jdk = jdkRegistry().getServiceProviders(ImageReaderSpi.class, true);
        while (jdk.hasNext()) {
            ImageReaderSpi spi = jdk.next();
            if (spi.getPluginClassName().startsWith(JDK_PLUGINS)) {
                registry.registerServiceProvider(spi, ImageReaderSpi.class);
            }
        }
        // TwelveMonkeys' JPEG reader decodes CMYK/YCCK and broken Adobe/ICC markers the JDK one rejects.
        ImageReaderSpi jpeg = register(registry, new JPEGImageReaderSpi());

        Map<ImageFormat, ImageReaderSpi> providers = new EnumMap<>(ImageFormat.class);
        providers.put(ImageFormat.JPEG, jpeg);
        for (ImageFormat format : List.of(ImageFormat.PNG, ImageFormat.GIF, ImageFormat.BMP)) {
            providers.put(format, jdkProvider(registry, format));
        }
        return providers;
    }

    private static ImageReaderSpi register(ServiceRegistry registry, ImageReaderSpi spi) {
        registry.registerServiceProvider(spi, ImageReaderSpi.class);
        // A TwelveMonkeys provider deregisters itself when it finds no JDK reader to delegate to.
        if (!registry.contains(spi)) {
            throw new IllegalStateException(spi.getPluginClassName() + " found no JDK reader to delegate to");
        }
        return spi;
    }

    private static ImageReaderSpi jdkProvider(ServiceRegistry registry, ImageFormat format) {
        Iterator<ImageReaderSpi> it = registry.getServiceProviders(ImageReaderSpi.class, true);
        while (it.hasNext()) {
            ImageReaderSpi spi = it.next();
            if (spi.getPluginClassName().startsWith(JDK_PLUGINS) && handles(spi, format)) {
                return spi;
            }
        }
        throw new IllegalStateException("This Java runtime has no built-in ImageIO reader for " + format.formatName());
    }

    private static boolean handles(ImageReaderSpi spi, ImageFormat format) {
        for (String name : spi.getFormatNames()) {
            if (name.toLowerCase(Locale.ROOT).equals(format.formatName())) {
                return true;
            }
        }
        return false;
    }

    private static IIORegistry jdkRegistry() {
        Thread thread = Thread.currentThread();
        ClassLoader context = thread.getContextClassLoader();
        thread.setContextClassLoader(ClassLoader.getSystemClassLoader());
        try {
            return IIORegistry.getDefaultInstance();
        } finally {
            thread.setContextClassLoader(context);
        }
    }
}
