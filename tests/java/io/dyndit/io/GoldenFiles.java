package io.dyndit.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the golden test files copied under tests/resources/golden (on the test classpath). */
final class GoldenFiles {
    static final String DIT = "dit_p2_d64_h4";
    static final String DYDIT = "dydit_v2_p2_d64_h4";

    private GoldenFiles() {
    }

    static Path path(String caseName, String file) {
        String resource = "/golden/" + caseName + "/" + file;
        URL url = GoldenFiles.class.getResource(resource);
        if (url == null) {
            throw new IllegalStateException("test resource " + resource + " is not on the classpath");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(String caseName, String file) {
        try {
            return Files.readAllBytes(path(caseName, file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String text(String caseName, String file) {
        try {
            return Files.readString(path(caseName, file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
