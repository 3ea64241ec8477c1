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

{{/* Environment every Tern process of this DC gets (docs/configuration.md). */}}
{{- define "tern.env" -}}
- name: TERN_DC_ID
  value: {{ .Values.dcId | quote }}
- name: TERN_TOPOLOGY_FILE
  value: /etc/tern/topology.json
- name: TERN_CASSANDRA_CONTACT_POINTS
  value: {{ .Values.cassandra.contactPoints | quote }}
- name: TERN_CASSANDRA_LOCAL_DC
  value: {{ .Values.cassandra.localDc | quote }}
- name: TERN_CASSANDRA_KEYSPACE_PREFIX
  value: {{ .Values.cassandra.keyspacePrefix | quote }}
- name: TERN_CASSANDRA_REPLICATION
  value: {{ .Values.cassandra.replication | quote }}
- name: TERN_CASSANDRA_USERNAME
  valueFrom: { secretKeyRef: { name: {{ include "tern.secretName" . }}, key: cassandra-username, optional: true } }
- name: TERN_CASSANDRA_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ include "tern.secretName" . }}, key: cassandra-password, optional: true } }
- name: TERN_NATS_URL
  value: {{ .Values.nats.url | quote }}
- name: TERN_MINIO_ENDPOINT
  value: {{ .Values.minio.endpoint | quote }}
- name: TERN_MINIO_BUCKET_PREFIX
  value: {{ .Values.minio.bucketPrefix | quote }}
- name: TERN_MINIO_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ include "tern.secretName" . }}, key: minio-access-key } }
- name: TERN_MINIO_SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ include "tern.secretName" . }}, key: minio-secret-key } }
- name: TERN_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: TERN_SHUTDOWN_TIMEOUT_MS
  value: {{ .Values.shutdownTimeoutMs | quote }}
- name: TERN_PRODUCTION
  value: "true"
- name: TERN_METRICS_LISTEN
  value: "0.0.0.0:{{ .Values.ports.metrics }}"
{{- if .Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.tracing.otlpEndpoint | quote }}
{{- end }}
{{- end -}}
