{{- define "infra.labels" -}}
app.kubernetes.io/part-of: tern-infra
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
