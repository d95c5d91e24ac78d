package io.vqrae.models.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.testing.TestPaths;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import org.junit.jupiter.api.Test;

/**
 * On a Flink cluster the TwelveMonkeys plugins sit in the job's class loader and are not in ImageIO's
 * JVM-wide registry. The decoder must not depend on them being there.
 */
class ReaderProvidersTest {
    @Test
    void decodesCmykJpegAndWebpWithoutTwelveMonkeysInTheJvmWideRegistry() throws Exception {
        IIORegistry registry = IIORegistry.getDefaultInstance();
        List<ImageReaderSpi> removed = new ArrayList<>();
        Iterator<ImageReaderSpi> it = registry.getServiceProviders(ImageReaderSpi.class, false);
        while (it.hasNext()) {
            ImageReaderSpi spi = it.next();
            if (spi.getPluginClassName().startsWith("com.twelvemonkeys.")) {
                removed.add(spi);
            }
        }
        removed.forEach(spi -> registry.deregisterServiceProvider(spi, ImageReaderSpi.class));
        try {
            ImageDecoder decoder = ImageDecoder.withDefaults();
            DecodedImage cmyk = decoder.decode(TestPaths.testImageBytes("derived_cmyk.jpg"));
            DecodedImage webp = decoder.decode(TestPaths.testImageBytes("derived_lossy.webp"));
            assertThat(cmyk.format()).isEqualTo("jpeg");
            assertThat(cmyk.width()).isEqualTo(510);
            assertThat(webp.format()).isEqualTo("webp");
            assertThat(webp.width()).isEqualTo(128);
        } finally {
            removed.forEach(spi -> registry.registerServiceProvider(spi, ImageReaderSpi.class));
        }
    }
}
