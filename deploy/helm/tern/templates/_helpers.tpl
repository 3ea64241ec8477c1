{{/* Names and labels shared by every object of one DC release. */}}

{{- define "tern.labels" -}}
app.kubernetes.io/part-of: tern
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
tern.dev/dc: {{ .Values.dcId | quote }}
{{- end -}}

{{- define "tern.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .name }}
{{- end -}}

{{- define "tern.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}

{{- define "tern.secretName" -}}
{{- if .Values.secrets.existingSecret -}}{{ .Values.secrets.existingSecret }}{{- else -}}{{ .Release.Name }}-credentials{{- end -}}
{{- end -}}

{{/* The topology document (docs/configuration.md) built from .Values.topology. */}}
{{- define "tern.topology" -}}
{{- $root := . -}}
{{- $dcs := list -}}
{{- range .Values.topology.dcs -}}
{{- $ns := .namespace -}}
{{- $services := dict -}}
{{- if .services -}}
{{- $services = .services -}}
{{- else -}}
{{- range $svc := list "gateway" "auth" "messaging" "channel" "media" -}}
{{- $_ := set $services $svc (printf "%s.%s.svc.%s:%v" $svc $ns $root.Values.topology.clusterDomain (index $root.Values.ports $svc)) -}}
{{- end -}}
{{- end -}}
{{- $dcs = append $dcs (dict "id" .id "gateway" .gateway "services" $services) -}}
{{- end -}}
{{- dict "testMode" .Values.topology.testMode "dcs" $dcs | toPrettyJson -}}
{{- end -}}

{{/* Name of the Secret the migrate hook reads: the existing one, or a hook-time copy of the chart's. */}}
{{- define "tern.migrateSecretName" -}}
{{- if .Values.secrets.existingSecret -}}{{ .Values.secrets.existingSecret }}{{- else -}}{{ .Release.Name }}-migrate-credentials{{- end -}}
{{- end -}}

{{/* stringData of a chart-made credentials Secret; refuses to render without MinIO credentials. */}}
{{- define "tern.credentialsData" -}}
{{- $v := .Values.secrets.values -}}
{{- if or (not $v.minioAccessKey) (not $v.minioSecretKey) -}}
{{- fail "set secrets.existingSecret, or secrets.values.minioAccessKey and secrets.values.minioSecretKey" -}}
{{- end -}}
minio-access-key: {{ $v.minioAccessKey | quote }}
minio-secret-key: {{ $v.minioSecretKey | quote }}
{{- with $v.cassandraUsername }}
cassandra-username: {{ . | quote }}
{{- end }}
{{- with $v.cassandraPassword }}
cassandra-password: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every pod of the release. */}}
{{- define "tern.podExtras" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
Environment of one Tern process of this DC (docs/configuration.md), with the infrastructure
settings its command reads: Cassandra for every command but the gateway, NATS for every command but
media, the object store for media and migrate, tracing for every command but migrate. What each command reads is defined by the
services' settings specs; `npm run deploy:check` fails when this disagrees with them. A setting
whose value is empty is not set at all: the service's own default applies.
Called with (dict "root" $ "secret" <name of the credentials Secret> "command" <command>).
*/}}
{{- define "tern.env" -}}
{{- $v := .root.Values -}}
{{- $cmd := .command -}}
- name: TERN_DC_ID
  value: {{ $v.dcId | quote }}
- name: TERN_TOPOLOGY_FILE
  value: /etc/tern/topology.json
{{- with $v.logLevel }}
- name: TERN_LOG_LEVEL
  value: {{ . | quote }}
{{- end }}
- name: TERN_SHUTDOWN_TIMEOUT_MS
  value: {{ $v.shutdownTimeoutMs | quote }}
- name: TERN_PRODUCTION
  value: {{ $v.production | quote }}
{{- if ne $cmd "gateway" }}
- name: TERN_CASSANDRA_CONTACT_POINTS
  value: {{ $v.cassandra.contactPoints | quote }}
{{- with $v.cassandra.localDc }}
- name: TERN_CASSANDRA_LOCAL_DC
  value: {{ . | quote }}
{{- end }}
{{- with $v.cassandra.keyspacePrefix }}
- name: TERN_CASSANDRA_KEYSPACE_PREFIX
  value: {{ . | quote }}
{{- end }}
{{- with $v.cassandra.replication }}
- name: TERN_CASSANDRA_REPLICATION
  value: {{ . | quote }}
{{- end }}
{{- with $v.cassandra.globalReplication }}
- name: TERN_CASSANDRA_GLOBAL_REPLICATION
  value: {{ . | quote }}
{{- end }}
- name: TERN_CASSANDRA_USERNAME
  valueFrom: { secretKeyRef: { name: {{ .secret }}, key: cassandra-username, optional: true } }
- name: TERN_CASSANDRA_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ .secret }}, key: cassandra-password, optional: true } }
{{- end }}
{{- if ne $cmd "media" }}
- name: TERN_NATS_URL
  value: {{ $v.nats.url | quote }}
{{- with $v.nats.replicas }}
- name: TERN_NATS_REPLICAS
  value: {{ . | quote }}
{{- end }}
{{- with $v.nats.placementCluster }}
- name: TERN_NATS_PLACEMENT_CLUSTER
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- if has $cmd (list "media" "migrate") }}
- name: TERN_MINIO_ENDPOINT
  value: {{ $v.minio.endpoint | quote }}
{{- with $v.minio.bucketPrefix }}
- name: TERN_MINIO_BUCKET_PREFIX
  value: {{ . | quote }}
{{- end }}
- name: TERN_MINIO_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ .secret }}, key: minio-access-key } }
- name: TERN_MINIO_SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ .secret }}, key: minio-secret-key } }
{{- end }}
{{- if and (ne $cmd "migrate") $v.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.tracing.otlpEndpoint | quote }}
{{- with $v.tracing.sampleRatio }}
- name: OTEL_TRACES_SAMPLER
  value: parentbased_traceidratio
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end -}}
