/*
 * Starts the embedded Elasticsearch for scripts/es-start on top of codelibs' elasticsearch-cluster-runner.
 *
 * Why not the runner's own main(): it has no flag for the transport port (two clusters on one machine
 * then pick ports from the same 9300+ range and discover each other), it gives nodes only the master and
 * data roles (no ingest node, so no pipeline runs), and it silently moves to the next HTTP port when the
 * asked one is taken. Here every node gets fixed ports, loopback only, the ingest role, and discovery
 * limited to its own cluster.
 *
 * Usage: OutliersEs BASE_PATH NODES HTTP_PORT TRANSPORT_PORT CLUSTER_NAME
 */
import org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner;

import java.util.ArrayList;
import java.util.List;

public class OutliersEs {
    public static void main(final String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: OutliersEs BASE_PATH NODES HTTP_PORT TRANSPORT_PORT CLUSTER_NAME");
            System.exit(2);
        }
        final String basePath = args[0];
        final int nodes = Integer.parseInt(args[1]);
        final int httpPort = Integer.parseInt(args[2]);
        final int transportPort = Integer.parseInt(args[3]);
        final String clusterName = args[4];

        final List<String> seeds = new ArrayList<>();
        for (int i = 0; i < nodes; i++) seeds.add("127.0.0.1:" + (transportPort + i));

        final ElasticsearchClusterRunner runner = new ElasticsearchClusterRunner();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (final Exception e) {
                System.err.println("closing Elasticsearch: " + e);
            }
        }));
        // A negative maximum turns off the runner's "port taken, try the next one" search.
        runner.setMaxHttpPort(-1);
        runner.onBuild((number, settings) -> {
            settings.put("http.port", String.valueOf(httpPort + number - 1));
            settings.put("transport.port", String.valueOf(transportPort + number - 1));
            settings.put("network.host", "127.0.0.1");
            settings.putList("node.roles", "master", "data", "ingest");
            if (nodes == 1) {
                settings.put("discovery.type", "single-node");
            } else {
                settings.putList("discovery.seed_hosts", seeds);
                // Node 1 bootstraps the cluster alone; the others join it (no 30 s quorum wait).
                settings.putList("cluster.initial_master_nodes", "Node 1");
            }
            // The test node runs on shared development disks: do not stop allocating at 85 % use.
            settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
        }).build(ElasticsearchClusterRunner.newConfigs()
                .basePath(basePath)
                .numOfNode(nodes)
                .baseHttpPort(httpPort - 1)
                .clusterName(clusterName));

        while (!runner.isClosed()) {
            Thread.sleep(5000);
        }
    }
}
