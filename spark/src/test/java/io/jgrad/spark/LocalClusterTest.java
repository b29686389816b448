package io.jgrad.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two executor JVMs (Spark's {@code local-cluster} mode: a master and two workers in this JVM,
 * each starting an executor process): the workers' exchange crosses processes, and the result
 * still has the bits of a one-worker run in local mode.
 */
class LocalClusterTest {
    @Test
    void twoExecutorProcessesGiveTheBitsOfOneWorker(@TempDir Path tmp) throws Exception {
        SparkSession local = SparkTrainerTest.session("local[2]");
        byte[] one;
        try {
            JavaRDD<Example> rdd = JavaSparkContext.fromSparkContext(local.sparkContext())
                    .parallelize(SparkTrainerTest.DATA, 2);
            SparkTrainer.Result r = SparkTrainerTest.trainer(SparkTrainerTest::mlp, SparkTrainerTest.SGD, 1)
                    .checkpoints(tmp.resolve("one").toString(), 0).build().fit(rdd);
            one = Files.readAllBytes(r.checkpoint());
        } finally {
            local.stop();
        }
        String opens = String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("--add-modules") || a.startsWith("-Djdk")
                        || a.startsWith("-Dio.netty"))
                .toList());
        // the executors' class path comes from spark.executor.extraClassPath; the Spark home (the pom sets
        // SPARK_HOME) only needs the jars folder a distribution has
        Files.createDirectories(Path.of(System.getenv("SPARK_HOME"), "jars"));
        SparkSession cluster = SparkSession.builder().master("local-cluster[2,1,1024]").appName("jgrad-cluster-test")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.executor.extraJavaOptions", opens)
                .config("spark.executor.memory", "768m").getOrCreate();
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(cluster.sparkContext());
            JavaRDD<Example> rdd = jsc.parallelize(SparkTrainerTest.DATA, 2);
            SparkTrainer.Result r = SparkTrainerTest.trainer(SparkTrainerTest::mlp, SparkTrainerTest.SGD, 2)
                    .checkpoints(tmp.resolve("two").toString(), 0).build().fit(rdd);
            assertThat(Files.readAllBytes(r.checkpoint())).isEqualTo(one);
            // the two ranks ran in two processes other than this one
            List<String> pids = jsc.parallelize(List.of(1, 2), 2)
                    .map(i -> Long.toString(ProcessHandle.current().pid())).collect();
            assertThat(pids).doesNotContain(Long.toString(ProcessHandle.current().pid())).doesNotHaveDuplicates();
            assertThat(cluster.sparkContext().getExecutorMemoryStatus().size()).isEqualTo(3); // driver + 2
        } finally {
            cluster.stop();
        }
    }
}
