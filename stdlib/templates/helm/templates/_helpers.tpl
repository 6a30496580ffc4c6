{{- /*
Helpers shared by every template. Each takes a context dict:
  root: the chart's root context ($), name: the workload's name, w: its values.
The mapping from values to objects is the same as hawser's Rust code
(compiler/src/emit/kubernetes/objects.rs); the chart's equality test holds them to it.
*/ -}}

{{- define "hawser.selectorLabels" -}}
app.kubernetes.io/instance: {{ .root.Values.project | quote }}
app.kubernetes.io/name: {{ .name | quote }}
{{- end }}

{{- define "hawser.labels" -}}
{{- $labels := dict -}}
{{- range $k, $v := .w.labels }}{{ $_ := set $labels $k $v }}{{ end -}}
{{- $_ := set $labels "app.kubernetes.io/instance" .root.Values.project -}}
{{- $_ := set $labels "app.kubernetes.io/name" .name -}}
{{- $_ := set $labels "app.kubernetes.io/component" .name -}}
{{- $_ := set $labels "app.kubernetes.io/part-of" .root.Values.project -}}
{{- $_ := set $labels "app.kubernetes.io/managed-by" "hawser" -}}
{{- $_ := set $labels "app.kubernetes.io/version" .root.Values.version -}}
{{- toYaml $labels -}}
{{- end }}

{{- /* A hook job's objects run before the release's other objects: its ServiceAccount,
ConfigMap, ExternalSecrets and NetworkPolicy at weight -10, the job at its own weight. */ -}}
{{- define "hawser.hook" -}}
{{- $annotations := dict -}}
{{- range $k, $v := (get . "annotations" | default dict) }}{{ $_ := set $annotations $k $v }}{{ end -}}
{{- if (get .w "job") }}{{ if .w.job.hook }}
{{- $_ := set $annotations "helm.sh/hook" "pre-install,pre-upgrade" -}}
{{- $_ := set $annotations "helm.sh/hook-weight" (get . "weight" | default "-10" | toString) -}}
{{- $_ := set $annotations "helm.sh/hook-delete-policy" "before-hook-creation" -}}
{{- end }}{{ end -}}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "hawser.metadata" -}}
name: {{ get . "objectName" | default .name | quote }}
namespace: {{ .root.Release.Namespace | quote }}
labels:
  {{- include "hawser.labels" . | nindent 2 }}
{{- include "hawser.hook" . }}
{{- end }}

{{- define "hawser.securityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop:
  - ALL
  {{- $add := get . "add" | default list }}
  {{- if .lowPort }}{{ $add = append $add "NET_BIND_SERVICE" }}{{ end }}
  {{- with $add | uniq | sortAlpha }}
  add:
  {{- range . }}
  - {{ . }}
  {{- end }}
  {{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "hawser.podTemplate" -}}
{{- $w := .w -}}
{{- $annotations := dict -}}
{{- range $k, $v := $w.podAnnotations }}{{ $_ := set $annotations $k $v }}{{ end -}}
{{- if $w.config }}{{ $_ := set $annotations "hawser.dev/config-checksum" ($w.config | toJson | sha256sum) }}{{ end -}}
{{- with get $w "files" }}
{{- $data := dict }}
{{- range $key, $f := . }}{{ $_ := set $data $key $f.content }}{{ end }}
{{- $_ := set $annotations "hawser.dev/files-checksum" ($data | toJson | sha256sum) }}
{{- end -}}
{{- $_ := set $annotations "hawser.dev/qos-class" (include "hawser.qosClass" $w.resources) -}}
{{- $lowPort := false -}}
{{- range $w.ports }}{{ if lt (int .port) 1024 }}{{ $lowPort = true }}{{ end }}{{ end -}}
metadata:
  labels:
    {{- include "hawser.labels" . | nindent 4 }}
  annotations:
    {{- toYaml $annotations | nindent 4 }}
spec:
  serviceAccountName: {{ .name | quote }}
  automountServiceAccountToken: {{ $w.serviceAccountToken }}
  enableServiceLinks: false
  {{- with get .root.Values "imagePullSecrets" }}
  imagePullSecrets:
  {{- range . }}
  - name: {{ . | quote }}
  {{- end }}
  {{- end }}
  {{- with get $w "priorityClassName" }}
  priorityClassName: {{ . | quote }}
  {{- end }}
  {{- with $w.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with get $w "tolerations" }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with get $w "affinity" }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if not (has $w.kind (list "Deployment" "StatefulSet")) }}
  restartPolicy: Never
  {{- end }}
  terminationGracePeriodSeconds: {{ int $w.terminationGracePeriodSeconds }}
  {{- /* Spread: the defaults of a service with more than one pod, changed or joined by
  the spec's own `spread`, by topology key (objects.rs, scheduling.rs). */}}
  {{- $spread := dict }}
  {{- if and (has $w.kind (list "Deployment" "StatefulSet")) (or (get $w "autoscale") (gt (int (get $w "replicas" | default 1)) 1)) }}
  {{- range list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}{{ $_ := set $spread . (dict "maxSkew" 1 "whenUnsatisfiable" "ScheduleAnyway") }}{{ end }}
  {{- end }}
  {{- range $key, $s := (get $w "spread" | default dict) }}{{ $_ := set $spread $key $s }}{{ end }}
  {{- with $spread }}
  topologySpreadConstraints:
  {{- range $key, $s := . }}
  - maxSkew: {{ int $s.maxSkew }}
    topologyKey: {{ $key | quote }}
    whenUnsatisfiable: {{ $s.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "hawser.selectorLabels" $ | nindent 8 }}
    {{- if eq $w.kind "Deployment" }}
    matchLabelKeys:
    - pod-template-hash
    {{- end }}
  {{- end }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    fsGroup: 65532
    seccompProfile:
      type: RuntimeDefault
  {{- with $w.waitFor }}
  initContainers:
  {{- range . }}
  - name: {{ printf "wait-%s" .name | quote }}
    image: {{ $.root.Values.waitImage | quote }}
    imagePullPolicy: IfNotPresent
    command:
    - sh
    - -c
    - {{ include "hawser.waitScript" . | quote }}
    - {{ .host | quote }}
    - {{ int .port | toString | quote }}
    - {{ int $.root.Values.waitSeconds | toString | quote }}
    resources:
      requests:
        cpu: 10m
        memory: 16Mi
      limits:
        cpu: 10m
        memory: 16Mi
    securityContext:
      {{- include "hawser.securityContext" (dict "lowPort" false) | nindent 6 }}
    volumeMounts:
    - name: tmp
      mountPath: /tmp
  {{- end }}
  {{- end }}
  containers:
  - name: {{ .name | quote }}
    image: {{ $w.image | quote }}
    imagePullPolicy: IfNotPresent
    {{- with get $w "command" }}
    command:
    {{- range . }}
    - {{ . | quote }}
    {{- end }}
    {{- end }}
    {{- with get $w "args" }}
    args:
    {{- range . }}
    - {{ . | quote }}
    {{- end }}
    {{- end }}
    {{- with $w.ports }}
    ports:
    {{- range . }}
    - name: {{ .name | quote }}
      containerPort: {{ int .port }}
      protocol: {{ .protocol }}
    {{- end }}
    {{- end }}
    {{- if $w.config }}
    envFrom:
    - configMapRef:
        name: {{ .name | quote }}
    {{- end }}
    {{- $env := dict }}
    {{- range $k, $v := $w.env }}{{ $_ := set $env $k $v }}{{ end }}
    {{- with include "hawser.gomaxprocs" $w.resources }}{{ $_ := set $env "GOMAXPROCS" (dict "value" .) }}{{ end }}
    {{- with include "hawser.gomemlimit" $w.resources }}{{ $_ := set $env "GOMEMLIMIT" (dict "value" .) }}{{ end }}
    {{- with $env }}
    env:
    {{- range $k, $v := . }}
    - name: {{ $k | quote }}
      {{- toYaml $v | nindent 6 }}
    {{- end }}
    {{- end }}
    resources:
      {{- toYaml $w.resources | nindent 6 }}
    {{- with $w.probes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with get $w "preStopSleepSeconds" }}
    lifecycle:
      preStop:
        sleep:
          seconds: {{ int . }}
    {{- end }}
    securityContext:
      {{- include "hawser.securityContext" (dict "lowPort" $lowPort "add" (get $w "capabilities")) | nindent 6 }}
    volumeMounts:
    - name: tmp
      mountPath: /tmp
    {{- range $volume, $v := get $w "volumes" | default dict }}
    - name: {{ $volume | quote }}
      mountPath: {{ $v.mountPath | quote }}
    {{- end }}
    {{- range $key, $f := get $w "files" | default dict }}
    - name: files
      mountPath: {{ $f.path | quote }}
      subPath: {{ $key | quote }}
      readOnly: true
    {{- end }}
    {{- range $w.secretFiles }}
    - name: {{ .volume | quote }}
      mountPath: {{ .mountPath | quote }}
      readOnly: true
    {{- end }}
  volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
  {{- range $volume, $v := get $w "volumes" | default dict }}
  {{- if not (get $v "claim") }}
  - name: {{ $volume | quote }}
    emptyDir:
      sizeLimit: {{ $v.size | quote }}
  {{- end }}
  {{- end }}
  {{- with get $w "files" }}
  - name: files
    configMap:
      name: {{ printf "%s-files" $.name | quote }}
      defaultMode: 292
      items:
      {{- range $key, $f := . }}
      - key: {{ $key | quote }}
        path: {{ $key | quote }}
      {{- end }}
  {{- end }}
  {{- range $w.secretFiles }}
  - name: {{ .volume | quote }}
    secret:
      secretName: {{ .secretName | quote }}
      defaultMode: 288
      items:
      - key: {{ .key | quote }}
        path: {{ .fileName | quote }}
  {{- end }}
{{- end }}

{{- /* What is derived from the resources is derived here, from the values in force, so a
values file that changes a limit cannot leave it stale (objects.rs and runtime.rs compute the
same). The QoS class: Guaranteed when CPU and memory limits are set and the requests equal
them or are left out, BestEffort with nothing set, else Burstable. */ -}}
{{- define "hawser.qosClass" -}}
{{- $req := get . "requests" | default dict -}}
{{- $lim := get . "limits" | default dict -}}
{{- $cpu := and (hasKey $lim "cpu") (or (not (hasKey $req "cpu")) (eq (toString (get $req "cpu")) (toString (get $lim "cpu")))) -}}
{{- $mem := and (hasKey $lim "memory") (or (not (hasKey $req "memory")) (eq (toString (get $req "memory")) (toString (get $lim "memory")))) -}}
{{- if and $cpu $mem }}Guaranteed{{ else if and (empty $req) (empty $lim) }}BestEffort{{ else }}Burstable{{ end -}}
{{- end }}

{{- /* GOMAXPROCS: the CPU limit (`500m`, `2`, `1.5`) rounded up to whole cores, at least 1. */ -}}
{{- define "hawser.gomaxprocs" -}}
{{- with toString (dig "limits" "cpu" "" .) -}}
{{- $millis := 0 -}}
{{- if hasSuffix "m" . -}}
{{- $millis = atoi (trimSuffix "m" .) -}}
{{- else -}}
{{- $parts := splitList "." . -}}
{{- $millis = mul (atoi (first $parts)) 1000 -}}
{{- if gt (len $parts) 1 }}{{ $millis = add $millis (atoi (substr 0 3 (printf "%s000" (last $parts)))) }}{{ end -}}
{{- end -}}
{{- max 1 (div (add $millis 999) 1000) -}}
{{- end -}}
{{- end }}

{{- /* GOMEMLIMIT: 90% of the memory limit, rounded down to a whole MiB, at least 1. */ -}}
{{- define "hawser.gomemlimit" -}}
{{- with toString (dig "limits" "memory" "" .) -}}
{{- $units := dict "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 -}}
{{- $n := regexFind "^[0-9]+" . -}}
{{- $bytes := mul (atoi $n) (get $units (trimPrefix $n .) | default 1) -}}
{{- printf "%dMiB" (max 1 (div (div (mul $bytes 90) 100) 1048576)) -}}
{{- end -}}
{{- end }}

{{- /* The wait-for-dependency script: `sh -c SCRIPT host port seconds` (objects.rs, WAIT_SCRIPT). */ -}}
{{- define "hawser.waitScript" -}}
end=$(($(date +%s) + $2)); until nc -z -w 2 "$0" "$1"; do if [ "$(date +%s)" -ge "$end" ]; then echo "$0:$1 did not accept a connection within $2 s; is it running, and does a NetworkPolicy allow it?" >&2; exit 1; fi; echo "waiting for $0:$1"; sleep 2; done
{{- end }}

{{- define "hawser.jobSpec" -}}
backoffLimit: {{ int .w.job.backoffLimit }}
activeDeadlineSeconds: {{ int .w.job.activeDeadlineSeconds }}
{{- with get .w.job "ttlSecondsAfterFinished" }}
ttlSecondsAfterFinished: {{ int . }}
{{- end }}
template:
  {{- include "hawser.podTemplate" . | nindent 2 }}
{{- end }}
