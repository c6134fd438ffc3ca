package io.dyndit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.io.SafetensorsWriter;
import io.dyndit.io.TensorFile;
import io.dyndit.model.DiTConfig;
import io.dyndit.model.RandomDiT;
import io.dyndit.vae.RandomVae;
import io.dyndit.vae.VaeConfig;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The program under "Use from Java" in README.md, compiled and run as a user would: only through the exported API
 * (under surefire the library is the module io.dyndit and the example lives in an unnamed module, so a class it
 * needs from an unexported package fails here), with real files holding small random weights.
 */
class ReadmeExampleTest {
    private static final String SECTION = "## Use from Java";

    @Test
    void readmeExampleGeneratesAndWritesPngs(@TempDir Path dir) throws Exception {
        String source = exampleSource(Files.readString(projectDir().resolve("README.md")));
        Matcher m = Pattern.compile("public class (\\w+)").matcher(source);
        assertTrue(m.find(), "the README example declares no public class");
        String className = m.group(1);
        Path classes = compile(dir, className, source);

        // DiT at 8x8 latents (all 1000 ImageNet labels, so the README's labels are valid) and a 2-level SD-VAE
        // decoder (x2 upsampling): 16x16 images. 32 channels = the 32 GroupNorm groups the VAE loader infers.
        DiTConfig dit = new DiTConfig(8, 2, 4, 32, 2, 2, 4.0, 0.1, 1000, true);
        Path weights = write(new RandomDiT(dit, 1), dir.resolve("dit/model.safetensors"));
        Path config = dir.resolve("dit/config.json");
        Files.writeString(config, "{\"input_size\": 8, \"patch_size\": 2, \"in_channels\": 4, \"hidden_size\": 32, "
                + "\"depth\": 2, \"num_heads\": 2, \"num_classes\": 1000, \"learn_sigma\": true}");
        VaeConfig vae = new VaeConfig(List.of(32, 32), 1, 32, 4, 3, 0.18215, 0, true, true);
        Path vaeWeights = write(new RandomVae(vae, 2), dir.resolve("vae/diffusion_pytorch_model.safetensors"));
        Path out = dir.resolve("out");

        String printed = runMain(classes, className,
                new String[] {weights.toString(), vaeWeights.toString(), out.toString(), config.toString()});

        assertTrue(printed.contains("step 25/25"), "progress listener output:\n" + printed);
        for (String name : List.of("000000.png", "000001.png")) {
            BufferedImage img = ImageIO.read(out.resolve(name).toFile());
            assertEquals(16, img.getWidth(), name);
            assertEquals(16, img.getHeight(), name);
        }
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(2, files.count(), "one PNG per label");
        }
    }

    /** The first java block of the section; the section ends at the next level-2 heading. */
    static String exampleSource(String readme) {
        int start = readme.indexOf("\n" + SECTION + "\n");
        assertTrue(start >= 0, "README.md has no '" + SECTION + "' section");
        int end = readme.indexOf("\n## ", start + 1);
        String section = readme.substring(start, end < 0 ? readme.length() : end);
        int open = section.indexOf("```java\n");
        assertTrue(open >= 0, "no java block under '" + SECTION + "'");
        int close = section.indexOf("\n```", open);
        return section.substring(open + "```java\n".length(), close + 1);
    }

    private static Path projectDir() {
        return Path.of(System.getProperty("dyndit.root.dir", System.getProperty("basedir", ".")));
    }

    /** javac through java.util.spi.ToolProvider (java.base), against the classes these tests run with. */
    private static Path compile(Path dir, String className, String source) throws Exception {
        Path src = Files.createDirectories(dir.resolve("src")).resolve(className + ".java");
        Path classes = Files.createDirectories(dir.resolve("classes"));
        Files.writeString(src, source);
        List<String> path = new ArrayList<>();
        for (String key : List.of("jdk.module.path", "java.class.path")) {
            for (String entry : System.getProperty(key, "").split(File.pathSeparator)) {
                if (!entry.isEmpty()) {
                    path.add(entry);
                }
            }
        }
        java.util.spi.ToolProvider javac = java.util.spi.ToolProvider.findFirst("javac")
                .orElseThrow(() -> new AssertionError("no javac in this Java runtime (a JRE, not a JDK?)"));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream logStream = new PrintStream(log, true, StandardCharsets.UTF_8);
        int rc = javac.run(logStream, logStream, "-d", classes.toString(), "-cp", String.join(File.pathSeparator, path),
                "-proc:none", "-Xlint:all", src.toString());
        assertEquals(0, rc, "the README example does not compile:\n" + log.toString(StandardCharsets.UTF_8));
        return classes;
    }

    private static Path write(TensorFile weights, Path file) throws Exception {
        Files.createDirectories(file.getParent());
        SafetensorsWriter w = new SafetensorsWriter();
        for (String name : weights.names()) {
            w.add(weights.get(name));
        }
        w.write(file);
        return file;
    }

    /** Runs main in its own class loader (an unnamed module); returns what it printed. */
    private static String runMain(Path classes, String className, String[] args) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                ReadmeExampleTest.class.getClassLoader())) {
            Method main = loader.loadClass(className).getMethod("main", String[].class);
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            main.invoke(null, (Object) args);
        } finally {
            System.setOut(saved);
        }
        String text = printed.toString(StandardCharsets.UTF_8);
        saved.print(text);
        return text;
    }
}
