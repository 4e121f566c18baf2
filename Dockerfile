# Scribe Ledger node image. Build from the checkout: docker build -t scribe-ledger .
# Run one node:  docker run -p 8080:8080 -v scribe-data:/data scribe-ledger
# A cluster sets SCRIBE_NODE_ID and SCRIBE_RAFT_PEERS (see k8s/ and docs/OPERATIONS.md).

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
# Dependencies first, so a source change does not download them again.
COPY pom.xml .
# javac's exports for Error Prone, which runs in every build.
COPY .mvn .mvn
RUN mvn -B -q dependency:go-offline
COPY src src
COPY conf conf
RUN mvn -B -q package -DskipTests

FROM eclipse-temurin:17-jre
# A fixed non-root uid the k8s securityContext names too; /data is the only place the node writes.
RUN groupadd --system --gid 10001 scribe \
 && useradd --system --uid 10001 --gid scribe --home-dir /opt/scribe --shell /usr/sbin/nologin scribe \
 && mkdir -p /opt/scribe/conf /data && chown scribe:scribe /data
WORKDIR /opt/scribe
COPY --from=build /src/target/scribe-ledger.jar scribe-ledger.jar
COPY conf/container.json conf/logback.xml conf/
COPY bin/scribe bin/scribe
ENV SCRIBE_JAR=/opt/scribe/scribe-ledger.jar \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=70 -XX:+ExitOnOutOfMemoryError"
USER 10001:10001
VOLUME /data
EXPOSE 8080 9080 7946/udp
# exec form: java is PID 1 and gets SIGTERM, so the node closes Raft and commits its index on stop.
ENTRYPOINT ["java", "-Dlogback.configurationFile=/opt/scribe/conf/logback.xml", "-jar", "/opt/scribe/scribe-ledger.jar"]
CMD ["-conf", "/opt/scribe/conf/container.json"]
