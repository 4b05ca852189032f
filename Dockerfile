# huyingd on Debian 12 (bookworm). Untested here (no Docker engine on the dev machines).
#   docker build -t huying .
#   docker run --rm huying --help
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libcivetweb-dev libcjson-dev libjwt-dev libpq-dev libgraphviz-dev \
      libssl-dev libyaml-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUYING_TESTS=OFF \
 && cmake --build build -j "$(nproc)" --target huyingd

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcivetweb1 libcjson1 libjwt0 libpq5 libyaml-0-2 libgvc6 libcurl4 libssl3 fonts-wqy-microhei ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin huying
COPY --from=build /src/build/huyingd /usr/local/bin/huyingd
USER huying
ENV HUYING_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/huyingd"]
CMD ["serve"]
