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
Environment every Tern process of this DC gets (docs/configuration.md).
Called with (dict "root" $ "secret" <name of the credentials Secret>).
*/}}
{{- define "tern.env" -}}
{{- $v := .root.Values -}}
- name: TERN_DC_ID
  value: {{ $v.dcId | quote }}
- name: TERN_TOPOLOGY_FILE
  value: /etc/tern/topology.json
- name: TERN_CASSANDRA_CONTACT_POINTS
  value: {{ $v.cassandra.contactPoints | quote }}
- name: TERN_CASSANDRA_LOCAL_DC
  value: {{ $v.cassandra.localDc | quote }}
- name: TERN_CASSANDRA_KEYSPACE_PREFIX
  value: {{ $v.cassandra.keyspacePrefix | quote }}
- name: TERN_CASSANDRA_REPLICATION
  value: {{ $v.cassandra.replication | quote }}
- name: TERN_CASSANDRA_USERNAME
  valueFrom: { secretKeyRef: { name: {{ .secret }}, key: cassandra-username, optional: true } }
- name: TERN_CASSANDRA_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ .secret }}, key: cassandra-password, optional: true } }
- name: TERN_NATS_URL
  value: {{ $v.nats.url | quote }}
- name: TERN_MINIO_ENDPOINT
  value: {{ $v.minio.endpoint | quote }}
- name: TERN_MINIO_BUCKET_PREFIX
  value: {{ $v.minio.bucketPrefix | quote }}
- name: TERN_MINIO_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ .secret }}, key: minio-access-key } }
- name: TERN_MINIO_SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ .secret }}, key: minio-secret-key } }
- name: TERN_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
- name: TERN_SHUTDOWN_TIMEOUT_MS
  value: {{ $v.shutdownTimeoutMs | quote }}
- name: TERN_PRODUCTION
  value: {{ $v.production | quote }}
- name: TERN_METRICS_LISTEN
  value: "0.0.0.0:{{ $v.ports.metrics }}"
{{- if $v.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.tracing.otlpEndpoint | quote }}
{{- end }}
{{- end -}}
