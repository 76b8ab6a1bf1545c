# One image for every trackmock emulator; docker-compose.yml runs one service per vendor.
FROM python:3.11-slim
WORKDIR /src
COPY pyproject.toml README.md ./
COPY mocks ./mocks
COPY clients ./clients
COPY contracts ./contracts
COPY fixtures ./fixtures
RUN pip install --no-cache-dir . && rm -rf /src
WORKDIR /srv
EXPOSE 8081 8082 8083
# Listen on every interface inside the container; publish only the ports you need.
ENTRYPOINT ["trackmock", "serve", "--host", "0.0.0.0"]
CMD ["--vendor", "all"]
