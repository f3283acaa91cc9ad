package telemetry.harness;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.jar.JarFile;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.PluginsLoader;

/**
 * Starts one single-node Elasticsearch for tests and local runs.
 *
 * <p>Usage: {@code Launcher <home> <data-dir> <http-port>}. {@code home} is the Maven target
 * directory, which holds {@code modules/transport-netty4}. Prints {@code STARTED <url>} on stdout
 * once HTTP is bound; closes the node on SIGTERM.
 *
 * <p>The regular distribution bootstrap expects a CLI process, a keystore and entitlement agents;
 * a test node needs none of them, so this builds the node the way the bootstrap does in its last
 * step: environment, module bundles, plugins loader, {@link Node}.
 */
public final class Launcher {
    private static final String NETTY = "transport-netty4";

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Launcher <home> <data-dir> <http-port>");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        Path data = Path.of(args[1]).toAbsolutePath();
        String httpPort = args[2];
        prepareNettyModule(home.resolve("modules").resolve(NETTY));

        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", data.resolve("data").toString())
            .put("path.logs", data.resolve("logs").toString())
            .put("cluster.name", "telemetry-test")
            .put("node.name", "telemetry-test-node")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", "0")
            // A test node on a shared disk must not turn indices read-only when the disk fills up
            // with someone else's files; tests that need a write block set one explicitly.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();

        LogConfigurator.configureESLogging();
        LogConfigurator.configureWithoutConfig(settings);
        var environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "telemetry-test-node");
        var modules = PluginsLoader.loadModulesBundles(environment.modulesDir(), false);
        var node = new Node(environment, PluginsLoader.createPluginsLoader(modules, Set.of(), Map.of()));
        node.start();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "telemetry-test-node-shutdown"));
        System.out.println("STARTED http://127.0.0.1:" + httpPort);
        System.out.flush();
        // Every Elasticsearch thread is a daemon; this keeps the JVM alive until SIGTERM.
        stopped.await();
    }

    /** The module jar carries its descriptor inside; a modules directory needs it beside the jars. */
    private static void prepareNettyModule(Path dir) throws IOException {
        Path descriptor = dir.resolve("plugin-descriptor.properties");
        if (Files.exists(descriptor)) {
            return;
        }
        try (var jars = Files.list(dir)) {
            Path jar = jars.filter(p -> p.getFileName().toString().startsWith(NETTY + "-"))
                .findFirst()
                .orElseThrow(() -> new IOException("no " + NETTY + " jar in " + dir));
            try (JarFile jf = new JarFile(jar.toFile())) {
                var entry = jf.getEntry("META-INF/es-plugins/" + NETTY + "/plugin-descriptor.properties");
                if (entry == null) {
                    throw new IOException(jar + " carries no plugin descriptor");
                }
                try (InputStream in = jf.getInputStream(entry)) {
                    Files.copy(in, descriptor, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
